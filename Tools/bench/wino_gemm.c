/* How fast does the engine's own Winograd GEMM (`rkan_wino_gemm`, CKernels; the engine's default
 * on AVX2 + FMA CPUs, `RKAN_WINO_GEMM=openblas` runs OpenBLAS instead) run the Winograd domain's
 * products, against OpenBLAS, on warm operands?
 *
 *     cc -O2 -Wno-psabi -ISources/CKernels/include Tools/bench/wino_gemm.c Sources/CKernels/wino_gemm.c Sources/CKernels/cpu.c \
 *        $(pkg-config --cflags --libs openblas) -lpthread -lm -o /tmp/wino_gemm
 *     /tmp/wino_gemm THREADS SECONDS < shapes        # lines "M N K": C (M x N) = A (M x K) . B^T, B (N x K)
 *
 * The forward Winograd product of one plane is M_xi (tiles x O) = V_xi (tiles x C) . U_xi^T with
 * U_xi stored (O x C): `cblas_sgemm(RowMajor, NoTrans, Trans, tiles, O, C, 1, V, C, U, C, 0, M, O)`.
 * OpenBLAS packs both operands on every call and zeroes C before accumulating into it; the engine's
 * kernel reads A in place, takes B packed once (`rkan_wino_gemm_pack`, untimed here: the engine packs
 * once per layer call) and writes each element of C once.
 *
 * For each shape, THREADS threads each run single-threaded calls on their own operands at once (the
 * engine's way), for at least SECONDS, best of three; prints both rates (all threads together), their
 * ratio and the largest difference of the kernel's C from OpenBLAS's relative to max |C| (the two
 * round differently: a different order of the same sums). A developer tool; never built by the
 * package. */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rkan_kernels.h"

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { long m, n, k, reps; int own; float *a, *b, *p, *c; pthread_barrier_t *go; double seconds; } job;

static void *worker(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->go);
    double t0 = now();
    for (long r = 0; r < j->reps; r++) {
        if (j->own) rkan_wino_gemm(j->c, j->n, j->a, j->k, j->p, j->m, j->n, j->k);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->m, (int)j->n, (int)j->k, 1.0f, j->a,
                         (int)j->k, j->b, (int)j->k, 0.0f, j->c, (int)j->n);
    }
    j->seconds = now() - t0;
    return NULL;
}

/* Seconds per call of THREADS simultaneous callers, best of three timings of at least `seconds`. */
static double timed(job *jobs, int threads, int own, double seconds) {
    long reps = 1;
    double best = 1e30;
    for (int attempt = 0; attempt < 3;) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, threads);
        pthread_t t[64];
        for (int i = 0; i < threads; i++) {
            jobs[i].reps = reps; jobs[i].own = own; jobs[i].go = &go;
            pthread_create(&t[i], NULL, worker, &jobs[i]);
        }
        double worst = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            if (jobs[i].seconds > worst) worst = jobs[i].seconds;
        }
        pthread_barrier_destroy(&go);
        if (worst < seconds / 3) { reps *= 2; continue; }
        if (worst / reps < best) best = worst / reps;
        attempt++;
    }
    return best;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: wino_gemm THREADS SECONDS < shapes   (lines \"M N K\", N a multiple of 8)\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
        fprintf(stderr, "wino_gemm: THREADS must be in 1...64 and SECONDS positive\n");
        return 2;
    }
    openblas_set_num_threads(1);
    long m, n, k;
    printf("%6s %6s %6s  %12s %12s %7s %10s\n", "M", "N", "K", "OpenBLAS", "own kernel", "ratio", "max rel");
    while (scanf("%ld %ld %ld", &m, &n, &k) == 3) {
        if (m < 1 || n < 8 || n % 8 || k < 1) {
            fprintf(stderr, "wino_gemm: shape %ld %ld %ld: M and K must be positive, N a positive multiple of 8\n", m, n, k);
            return 2;
        }
        job jobs[64];
        for (int i = 0; i < threads; i++) {
            job *j = &jobs[i];
            j->m = m; j->n = n; j->k = k;
            j->a = malloc(sizeof(float) * m * k); j->b = malloc(sizeof(float) * n * k);
            j->p = malloc(sizeof(float) * n * k); j->c = malloc(sizeof(float) * m * n);
            for (long q = 0; q < m * k; q++) j->a[q] = (float)((q * 7919 + i) % 2001) / 1000.0f - 1.0f;
            for (long q = 0; q < n * k; q++) j->b[q] = (float)((q * 104729 + i) % 1999) / 1000.0f - 1.0f;
            rkan_wino_gemm_pack(j->p, j->b, k, n, k, 1);
        }
        double flops = 2.0 * m * n * k * threads;
        double t_blas = timed(jobs, threads, 0, seconds);
        float *ref = malloc(sizeof(float) * m * n);
        memcpy(ref, jobs[0].c, sizeof(float) * m * n);
        double t_own = timed(jobs, threads, 1, seconds);
        double scale = 0, diff = 0;
        for (long q = 0; q < m * n; q++) {
            if (fabs(ref[q]) > scale) scale = fabs(ref[q]);
            if (fabs(ref[q] - jobs[0].c[q]) > diff) diff = fabs(ref[q] - jobs[0].c[q]);
        }
        printf("%6ld %6ld %6ld  %7.1f GF/s %7.1f GF/s %6.2fx %10.2e\n", m, n, k, flops / t_blas * 1e-9,
               flops / t_own * 1e-9, t_blas / t_own, scale > 0 ? diff / scale : diff);
        fflush(stdout);
        free(ref);
        for (int i = 0; i < threads; i++) { free(jobs[i].a); free(jobs[i].b); free(jobs[i].p); free(jobs[i].c); }
    }
    return 0;
}
