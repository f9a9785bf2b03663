/* Does OpenBLAS compute each element of C as one fused multiply-add chain over k, in order from
 * +0 (per block of its K split), added to C? That is the order a plain register-blocked
 * micro-kernel of our own would use, so this says whether such a kernel could keep the bytes of
 * the GEMMs it would replace.
 *
 *     cc -O2 -ffp-contract=off Tools/bench/sgemm_order.c $(pkg-config --cflags --libs openblas) -lm -o /tmp/sgemm_order
 *     OPENBLAS_CORETYPE=Zen /tmp/sgemm_order M N K [TA TB [Q]]     # TA, TB: 0 as stored, 1 transposed
 *
 * Runs one single-threaded row-major cblas_sgemm (alpha 1, beta 0) on uniform random operands in
 * [-0.5, 0.5) and compares every element bit for bit with the chain model, K cut into blocks of Q
 * the way OpenBLAS's level-3 driver cuts it (Q = its GEMM_Q; default: no cut). Prints the number
 * of elements that differ and, with SHOW=1, a map of them (x) by row and column of C. A developer
 * tool; never built by the package. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);

static uint64_t state = 88172645463325252ull;
static float uniform(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (float)((state >> 11) * (1.0 / 9007199254740992.0) - 0.5);
}

/* OpenBLAS's cut of K: blocks of Q while at least 2Q remain, then the rest in two halves rounded
 * up to 8 (or one block when at most Q remain). Writes the block bounds; returns their count. */
static int k_blocks(long K, long Q, long *bounds) {
    int n = 0;
    long k = 0;
    bounds[0] = 0;
    while (k < K) {
        long rest = K - k, l = rest >= 2 * Q ? Q : rest > Q ? ((rest / 2 + 7) / 8) * 8 : rest;
        k += l;
        bounds[++n] = k;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: sgemm_order M N K [TA TB [Q]]\n");
        return 2;
    }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
    int ta = argc > 4 ? atoi(argv[4]) : 0, tb = argc > 5 ? atoi(argv[5]) : 0;
    long Q = argc > 6 ? atol(argv[6]) : K;
    if (M < 1 || N < 1 || K < 1 || Q < 1 || K / Q > 4000) {
        fprintf(stderr, "sgemm_order: M, N, K and Q must be positive, K/Q at most 4000\n");
        return 2;
    }
    openblas_set_num_threads(1);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    if (!A || !B || !C) return 3;
    for (long i = 0; i < M * K; i++) A[i] = uniform();
    for (long i = 0; i < K * N; i++) B[i] = uniform();
    long lda = ta ? M : K, ldb = tb ? K : N;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)N);
    long bounds[4002];
    int blocks = k_blocks(K, Q, bounds);
    long differ = 0;
    int show = getenv("SHOW") != NULL;
    for (long i = 0; i < M; i++) {
        for (long j = 0; j < N; j++) {
            float c = 0.0f;
            for (int b = 0; b < blocks; b++) {
                float acc = 0.0f;
                for (long k = bounds[b]; k < bounds[b + 1]; k++)
                    acc = fmaf(ta ? A[k * lda + i] : A[i * lda + k], tb ? B[j * ldb + k] : B[k * ldb + j], acc);
                c = c + acc;
            }
            int same = memcmp(&c, &C[i * N + j], sizeof c) == 0;
            differ += !same;
            if (show) putchar(same ? '.' : 'x');
        }
        if (show) putchar('\n');
    }
    printf("M %ld N %ld K %ld TA %d TB %d Q %ld (%d K blocks): %ld of %ld elements differ from one FMA chain per block\n",
           M, N, K, ta, tb, Q, blocks, differ, M * N);
    free(A); free(B); free(C);
    return 0;
}
