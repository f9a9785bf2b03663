/* How fast could a GEMM of our own run the Winograd domain's products, against OpenBLAS?
 *
 *     cc -O2 -mavx2 -mfma Tools/bench/wino_gemm.c $(pkg-config --cflags --libs openblas) -lpthread -lm -o /tmp/wino_gemm
 *     /tmp/wino_gemm THREADS SECONDS < shapes        # lines "M N K": C (M x N) = A (M x K) . B^T, B (N x K)
 *
 * The forward Winograd product of one plane is M_xi (tiles x O) = V_xi (tiles x C) . U_xi^T with
 * U_xi stored (O x C): `cblas_sgemm(RowMajor, NoTrans, Trans, tiles, O, C, 1, V, C, U, C, 0, M, O)`.
 * OpenBLAS packs both operands on every call and zeroes C before accumulating into it. The
 * candidate here reads A (the transform's output) in place, takes B packed once into panels of 16
 * columns (which the weight transform could write directly: the weights change once per step) and
 * writes each element of C once, from a 6 x 16 register block of fused multiply-adds over k.
 *
 * For each shape, THREADS threads each run single-threaded calls on their own operands at once (the
 * engine's way), for at least SECONDS, best of three; prints both rates (all threads together), their
 * ratio and the largest difference of the candidate's C from OpenBLAS's relative to max |C| (the two
 * round differently: a different order of the same sums). A developer tool measuring a prototype;
 * never built by the package, and the engine does not use the candidate. */
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* B (N x K, row-major) into panels of 16 rows: panel p holds B[16p + j][k] at [p][k][j]; a last
 * panel of 8 rows holds [k][j] for j < 8 (N is a multiple of 8). */
static void pack_b(const float *B, long N, long K, float *P) {
    for (long p = 0; p < N; p += 16) {
        long w = N - p >= 16 ? 16 : 8;
        float *dst = P + p * K;
        for (long k = 0; k < K; k++)
            for (long j = 0; j < w; j++) dst[k * w + j] = B[(p + j) * K + k];
    }
}

/* C[r][0..16) for rows r < rows (at most 6) of A = sum over k of A[r][k] . P[k][0..16). */
static inline void block16(const float *A, long lda, const float *P, long K, float *C, long ldc, int rows) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = A, *a1 = A + (rows > 1 ? lda : 0), *a2 = A + (rows > 2 ? 2 * lda : 0);
    const float *a3 = A + (rows > 3 ? 3 * lda : 0), *a4 = A + (rows > 4 ? 4 * lda : 0), *a5 = A + (rows > 5 ? 5 * lda : 0);
    for (long k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(P + 16 * k), b1 = _mm256_loadu_ps(P + 16 * k + 8), a;
        a = _mm256_broadcast_ss(a0 + k); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(a1 + k); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(a2 + k); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(a3 + k); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(a4 + k); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(a5 + k); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    }
    __m256 r[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < rows; i++) {
        _mm256_storeu_ps(C + i * ldc, r[2 * i]);
        _mm256_storeu_ps(C + i * ldc + 8, r[2 * i + 1]);
    }
}

/* The same for a last panel of 8 columns. */
static inline void block8(const float *A, long lda, const float *P, long K, float *C, long ldc, int rows) {
    __m256 c[6] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (long k = 0; k < K; k++) {
        __m256 b = _mm256_loadu_ps(P + 8 * k);
        for (int i = 0; i < 6; i++)
            if (i < rows) c[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(A + i * lda + k), b, c[i]);
    }
    for (int i = 0; i < rows; i++) _mm256_storeu_ps(C + i * ldc, c[i]);
}

/* C (M x N) = A (M x K) . B^T from B packed by pack_b. */
static void candidate(const float *A, long M, long N, long K, const float *P, float *C) {
    for (long p = 0; p < N; p += 16) {
        const float *panel = P + p * K;
        for (long i = 0; i < M; i += 6) {
            int rows = M - i >= 6 ? 6 : (int)(M - i);
            if (N - p >= 16) block16(A + i * K, K, panel, K, C + i * N + p, N, rows);
            else block8(A + i * K, K, panel, K, C + i * N + p, N, rows);
        }
    }
}

typedef struct { long m, n, k, reps; int own; float *a, *b, *p, *c; pthread_barrier_t *go; double seconds; } job;

static void *worker(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->go);
    double t0 = now();
    for (long r = 0; r < j->reps; r++) {
        if (j->own) candidate(j->a, j->m, j->n, j->k, j->p, j->c);
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
    printf("%6s %6s %6s  %12s %12s %7s %10s\n", "M", "N", "K", "OpenBLAS", "candidate", "ratio", "max rel");
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
            pack_b(j->b, n, k, j->p);
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
