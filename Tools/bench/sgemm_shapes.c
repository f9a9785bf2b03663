/* The machine's sgemm rate on given GEMM shapes, for Tools/bench/gemm_flops.py.
 *
 *     sgemm_shapes THREADS SECONDS < shapes      (lines "TA TB M N K", TA/TB: 111 none, 112 transposed;
 *                                                 200 200: a call of the engine's own Winograd GEMM)
 *
 * For each shape, THREADS threads each run single-threaded OpenBLAS calls of that shape on their
 * own operands (row-major, tight leading dimensions, beta 0) at the same time, as the engine runs
 * the blocks of one split GEMM; repeated for at least SECONDS, best of three such timings. Prints
 * "rate TA TB M N K GFLOPS" (all threads together) per shape, then "core NAME". A shape of the own
 * GEMM (C = A . B^T, A read in place, B packed once, untimed, as the engine packs once per layer
 * call) is timed on both kernels, the own GEMM and OpenBLAS (NoTrans, Trans), and its rate is the
 * faster one's: the bound asks what the machine can do on that product; a line "own M N K OWN
 * OPENBLAS" gives both. Built with CKernels' wino_gemm.c and cpu.c. A developer tool; never built
 * by the package. */
#include "rkan_kernels.h"

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

typedef struct { int ta, tb, m, n, k, reps, own; float *a, *b, *c, *bp; pthread_barrier_t *go; double seconds; } job;

static void *worker(void *p) {
    job *j = p;
    int lda = j->ta == CblasTrans ? j->m : j->k, ldb = j->tb == CblasTrans ? j->k : j->n;
    pthread_barrier_wait(j->go);
    double t0 = now();
    if (j->own)
        for (int r = 0; r < j->reps; r++) rkan_wino_gemm(j->c, j->n, j->a, j->k, j->bp, j->m, j->n, j->k);
    else
        for (int r = 0; r < j->reps; r++)
            cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->m, j->n, j->k, 1.0f, j->a, lda, j->b, ldb, 0.0f, j->c, j->n);
    j->seconds = now() - t0;
    return NULL;
}

/* Wall seconds for `threads` threads to run `reps` calls each. */
static double rate(job *jobs, int threads, int own);
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

/* GFLOP/s of all threads together: `threads` threads calling at once, best of three timings of at
 * least SECONDS / 3 each. */
static double seconds_per_timing;

static double rate(job *jobs, int threads, int own) {
    for (int i = 0; i < threads; i++) jobs[i].own = own;
    double flops = 2.0 * jobs[0].m * jobs[0].n * jobs[0].k;
    int reps = 1;
    timed(jobs, threads, 1);   /* warm-up: page in, OpenBLAS buffers */
    while (reps < (1 << 24) && timed(jobs, threads, reps) < seconds_per_timing / 3) reps *= 2;
    double best = 1e300;
    for (int r = 0; r < 3; r++) { double s = timed(jobs, threads, reps); if (s < best) best = s; }
    return flops * reps * threads / best * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: sgemm_shapes THREADS SECONDS < shapes\n"); return 2; }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    if (threads < 1 || threads > 64 || seconds <= 0) { fprintf(stderr, "sgemm_shapes: THREADS 1-64, SECONDS > 0\n"); return 2; }
    seconds_per_timing = seconds;
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
        int own = ta == 200;
        if (own) {
            ta = CblasNoTrans;
            tb = CblasTrans;
            for (int i = 0; i < threads; i++) {
                jobs[i].ta = ta; jobs[i].tb = tb;
                jobs[i].bp = malloc(sizeof(float) * (size_t)k * n + 64);
                rkan_wino_gemm_pack(jobs[i].bp, jobs[i].b, k, n, k, 1);
            }
        }
        double best = rate(jobs, threads, 0);
        if (own) {
            double mine = rate(jobs, threads, 1);
            printf("own %d %d %d %.3f %.3f\n", m, n, k, mine, best);
            if (mine > best) best = mine;
            for (int i = 0; i < threads; i++) free(jobs[i].bp);
        }
        printf("rate %d %d %d %d %d %.3f\n", own ? 200 : ta, own ? 200 : tb, m, n, k, best);
        fflush(stdout);
        for (int i = 0; i < threads; i++) { free(jobs[i].a); free(jobs[i].b); free(jobs[i].c); }
    }
    printf("core %s\n", openblas_get_corename());
    return 0;
}
