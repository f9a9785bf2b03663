/* LD_PRELOAD shim for Tools/bench/gemm_flops.py: counts the calls and flops (2·m·n·k) of every
 * GEMM a process makes and prints the totals at exit on stderr as "gemm_flops: calls N flops F".
 * It sees two GEMMs: every cblas_sgemm (wrapped here and passed on to the real OpenBLAS), and the
 * engine's own Winograd GEMM (CKernels/wino_gemm.c), a call inside the binary that no preload can
 * wrap: the binary looks up `rkan_gemm_observe_begin` / `_end` defined here and reports each of its
 * calls (C = A . B, A read in place, B packed, C (M x N) written once), and calls
 * `rkan_gemm_observe_attached` when it found them. When GEMM_SHAPES_OUT names a file, the shim also
 * writes there, at exit, one line per distinct GEMM shape ("shape TA TB M N K CALLS SECONDS BETA1":
 * TA/TB 111 none, 112 transposed, 200 200 for the own GEMM; SECONDS the summed wall time of that
 * shape's calls on every thread, BETA1 how many of its calls accumulated into C, beta ≠ 0), one line
 * "time INFLIGHT SPAN" (seconds: INFLIGHT is the wall time during which at least one GEMM was
 * running on any thread, SPAN the wall time from the start of the first call to the end of the
 * last) and "own_gemm_observed 0|1". A developer tool; never built by the package. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static _Atomic long long flops, calls;
static sgemm_fn real;

/* Distinct shapes (open addressing; a process with more than SLOTS shapes counts the rest as "other"). */
#define SLOTS 4096
static struct { int used, ta, tb, m, n, k; long long calls, beta1; double seconds; } shapes[SLOTS];
static long long other_calls, other_flops;
/* A spin lock, not a mutex: a thread that waits for it stays on its CPU, so the bench's busy
 * threads (CPU time per wall second) count the shim's own waits as busy, not as the engine's idle
 * time (a mutex puts a waiter to sleep under contention: tens of thousands of calls per step). */
static pthread_spinlock_t lock;
static int inflight, own_attached;
static double busy_since, busy_total, first_start = -1, last_end;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void report(void) {
    fprintf(stderr, "gemm_flops: calls %lld flops %lld\n", (long long)calls, (long long)flops);
    const char *path = getenv("GEMM_SHAPES_OUT");
    if (!path || !*path) return;
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "gemm_flops: cannot write %s\n", path); return; }
    for (int i = 0; i < SLOTS; i++)
        if (shapes[i].used)
            fprintf(f, "shape %d %d %d %d %d %lld %.9f %lld\n", shapes[i].ta, shapes[i].tb, shapes[i].m, shapes[i].n,
                    shapes[i].k, shapes[i].calls, shapes[i].seconds, shapes[i].beta1);
    if (other_calls) fprintf(f, "other %lld %lld\n", other_calls, other_flops);
    fprintf(f, "time %.9f %.9f\n", busy_total, first_start < 0 ? 0.0 : last_end - first_start);
    fprintf(f, "own_gemm_observed %d\n", own_attached);
    fclose(f);
}

__attribute__((constructor)) static void setup(void) {
    pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
    real = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    atexit(report);
}

/* The slot of a shape (counting the call), or -1 when the table is full. */
static int count_shape(int ta, int tb, int m, int n, int k) {
    unsigned h = (unsigned)(ta * 31 + tb) * 2654435761u ^ (unsigned)m * 40503u ^ (unsigned)n * 9973u ^ (unsigned)k * 7919u;
    for (int probe = 0; probe < SLOTS; probe++) {
        int i = (int)((h + (unsigned)probe) % SLOTS);
        if (!shapes[i].used) {
            shapes[i].used = 1; shapes[i].ta = ta; shapes[i].tb = tb; shapes[i].m = m; shapes[i].n = n; shapes[i].k = k;
        }
        if (shapes[i].ta == ta && shapes[i].tb == tb && shapes[i].m == m && shapes[i].n == n && shapes[i].k == k) {
            shapes[i].calls++;
            return i;
        }
    }
    other_calls++;
    other_flops += 2LL * m * n * k;
    return -1;
}

/* The accounting of one call, shared by both GEMMs: begin_call marks a GEMM in flight and returns
 * its start; end_call books its shape, flops and duration. */
static double begin_call(void) {
    pthread_spin_lock(&lock);
    double t = now();
    if (first_start < 0) first_start = t;
    if (inflight++ == 0) busy_since = t;
    pthread_spin_unlock(&lock);
    return t;
}

static void end_call(int ta, int tb, int m, int n, int k, int accumulates, double start) {
    flops += 2LL * m * n * k;
    calls += 1;
    pthread_spin_lock(&lock);
    int slot = count_shape(ta, tb, m, n, k);
    double t = now();
    if (--inflight == 0) busy_total += t - busy_since;
    if (slot >= 0) {
        shapes[slot].seconds += t - start;
        if (accumulates) shapes[slot].beta1++;
    }
    last_end = t;
    pthread_spin_unlock(&lock);
}

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    double start = begin_call();
    real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    end_call(ta, tb, m, n, k, beta != 0.0f, start);
}

/* The own GEMM's side (CKernels/wino_gemm.c looks these up at start). Its calls do not nest on a
 * thread, so the start of the current one is kept per thread. */
static __thread double own_start;

void rkan_gemm_observe_attached(void) { own_attached = 1; }

void *rkan_gemm_observe_begin(void) {
    own_start = begin_call();
    return NULL;
}

void rkan_gemm_observe_end(long m, long n, long k, void *unused) {
    (void)unused;
    end_call(200, 200, (int)m, (int)n, (int)k, 0, own_start);
}
