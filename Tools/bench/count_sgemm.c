/* LD_PRELOAD shim for Tools/bench/gemm_flops.py: counts the calls and flops (2·m·n·k) of every
 * cblas_sgemm a process makes, passes each call on to the real OpenBLAS, and prints the totals
 * at exit on stderr as "gemm_flops: calls N flops F". A developer tool; never built by the package. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static _Atomic long long flops, calls;
static sgemm_fn real;

static void report(void) { fprintf(stderr, "gemm_flops: calls %lld flops %lld\n", (long long)calls, (long long)flops); }

__attribute__((constructor)) static void setup(void) {
    real = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    atexit(report);
}

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    flops += 2LL * m * n * k;
    calls += 1;
    real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
