/* Does OpenBLAS's cblas_sgemm give the same bytes for a row of C whether the rows are computed in
 * one call or in blocks of B rows (row-major C = A . op(B), one thread)? A blocked Winograd over
 * tiles could keep OpenBLAS's bytes only for block sizes where it does.
 *
 *     cc -O2 Tools/bench/sgemm_rowsplit.c $(pkg-config --cflags --libs openblas) -o /tmp/sgemm_rowsplit
 *     OPENBLAS_CORETYPE=Haswell /tmp/sgemm_rowsplit      # one line per shape, layout and block size
 *
 * Prints "M N K NN|NT block B: D differ" (D elements of C whose bytes differ from the one-call C).
 * On OpenBLAS 0.3.21's Haswell, Zen, Sandybridge, Nehalem and Prescott cores: 0 for blocks of 24,
 * 48 and 96 on every shape here; blocks of 6, 16, 50, 100 and 128 change bytes on every shape. A developer tool; never built
 * by the package. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);

int main(void) {
    openblas_set_num_threads(1);
    const long shapes[][3] = {{1024, 64, 64}, {1024, 128, 128}, {512, 256, 256}, {256, 512, 512}, {1000, 72, 40}, {300, 64, 576}};
    const int blocks[] = {6, 16, 24, 48, 50, 96, 100, 128};
    for (int s = 0; s < 6; s++)
        for (int tr = 0; tr < 2; tr++) {
            const long M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            const int tb = tr ? CblasTrans : CblasNoTrans, ldb = tr ? (int)K : (int)N;
            float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * N * K);
            float *c = malloc(sizeof(float) * M * N), *c2 = malloc(sizeof(float) * M * N);
            if (!a || !b || !c || !c2) { fprintf(stderr, "sgemm_rowsplit: out of memory\n"); return 1; }
            srand((unsigned)s);
            for (long i = 0; i < M * K; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
            for (long i = 0; i < N * K; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, (int)M, (int)N, (int)K, 1, a, (int)K, b, ldb, 0, c, (int)N);
            for (int bi = 0; bi < (int)(sizeof blocks / sizeof blocks[0]); bi++) {
                const long B = blocks[bi];
                for (long r = 0; r < M; r += B) {
                    const long m = M - r < B ? M - r : B;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, (int)m, (int)N, (int)K, 1, a + r * K, (int)K, b, ldb, 0,
                                c2 + r * N, (int)N);
                }
                long differ = 0;
                for (long i = 0; i < M * N; i++) differ += memcmp(&c[i], &c2[i], sizeof(float)) != 0;
                printf("%ld %ld %ld %s block %ld: %ld differ\n", M, N, K, tr ? "NT" : "NN", B, differ);
            }
            free(a); free(b); free(c); free(c2);
        }
    return 0;
}
