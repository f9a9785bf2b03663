/* The machine's cblas_sgemm rate on given GEMM shapes, for Tools/bench/gemm_flops.py.
 *
 *     sgemm_shapes THREADS SECONDS < shapes      (lines "TA TB M N K", TA/TB: 111 none, 112 transposed)
 *
 * For each shape, THREADS threads each run single-threaded OpenBLAS calls of that shape on their
 * own operands (row-major, tight leading dimensions, beta 0) at the same time, as the engine runs
 * the blocks of one split GEMM; repeated for at least SECONDS, best of three such timings. Prints
 * "rate TA TB M N K GFLOPS" (all threads together) per shape, then "core NAME". A developer tool;
 * never built by the package. */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { int ta, tb, m, n, k, reps; float *a, *b, *c; pthread_barrier_t *go; double seconds; } job;

static void *worker(void *p) {
    job *j = p;
    int lda = j->ta == CblasTrans ? j->m : j->k, ldb = j->tb == CblasTrans ? j->k : j->n;
    pthread_barrier_wait(j->go);
    double t0 = now();
    for (int r = 0; r < j->reps; r++)
        cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->m, j->n, j->k, 1.0f, j->a, lda, j->b, ldb, 0.0f, j->c, j->n);
    j->seconds = now() - t0;
    return NULL;
}

/* Wall seconds for `threads` threads to run `reps` calls each. */
static double timed(job *jobs, int threads, int reps) {
    pthread_t t[64];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)threads);
    double t0 = now();
    for (int i = 0; i < threads; i++) { jobs[i].reps = reps; jobs[i].go = &go; pthread_create(&t[i], NULL, worker, &jobs[i]); }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    return now() - t0;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: sgemm_shapes THREADS SECONDS < shapes\n"); return 2; }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    if (threads < 1 || threads > 64 || seconds <= 0) { fprintf(stderr, "sgemm_shapes: THREADS 1-64, SECONDS > 0\n"); return 2; }
    openblas_set_num_threads(1);
    int ta, tb, m, n, k;
    while (scanf("%d %d %d %d %d", &ta, &tb, &m, &n, &k) == 5) {
        job jobs[64];
        for (int i = 0; i < threads; i++) {
            jobs[i] = (job){.ta = ta, .tb = tb, .m = m, .n = n, .k = k};
            jobs[i].a = malloc(sizeof(float) * (size_t)m * k + 64);
            jobs[i].b = malloc(sizeof(float) * (size_t)k * n + 64);
            jobs[i].c = malloc(sizeof(float) * (size_t)m * n + 64);
            for (long x = 0; x < (long)m * k; x++) jobs[i].a[x] = (float)((x * 7 + i) % 13) * 0.1f - 0.6f;
            for (long x = 0; x < (long)k * n; x++) jobs[i].b[x] = (float)((x * 5 + i) % 11) * 0.1f - 0.5f;
        }
        double flops = 2.0 * m * n * k;
        int reps = 1;
        timed(jobs, threads, 1);   /* warm-up: page in, OpenBLAS buffers */
        while (reps < (1 << 24) && timed(jobs, threads, reps) < seconds / 3) reps *= 2;
        double best = 1e300;
        for (int r = 0; r < 3; r++) { double s = timed(jobs, threads, reps); if (s < best) best = s; }
        printf("rate %d %d %d %d %d %.3f\n", ta, tb, m, n, k, flops * reps * threads / best * 1e-9);
        fflush(stdout);
        for (int i = 0; i < threads; i++) { free(jobs[i].a); free(jobs[i].b); free(jobs[i].c); }
    }
    printf("core %s\n", openblas_get_corename());
    return 0;
}
