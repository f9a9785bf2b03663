#include "rkan_kernels.h"

/* Pointwise kernels of BatchNorm, ReLU and the residual add over NHWC rows (rows x c floats,
 * channel innermost), built like the Winograd transforms: once for baseline x86-64 (SSE2) and
 * once for AVX2, the AVX2 build chosen at run time (`rkan_kernels_avx2`). Swift compiles the
 * engine for baseline x86-64, where these loops ran on 4 floats (2 doubles) at a time.
 * Every value goes through the same IEEE operations in the same order in both builds and in
 * the scalar tails (never fused: `fp contract(off)`), and each per-channel sum adds its rows in
 * row order from +0: the bytes of the plain loops they replace. */
#include "vec8.h"

typedef double v8d __attribute__((vector_size(64)));

INLINE v8d ldd(const double *p) { v8d v; memcpy(&v, p, sizeof v); return v; }
INLINE void std8(double *p, v8d v) { memcpy(p, &v, sizeof v); }
/* The scalar forms of relu8 and pass8 (vec8.h): NaN passes, -0 gives +0. */
INLINE float relu1(float v) { return v > 0 || v != v ? v : 0; }
INLINE float pass1(float g, float m) { return m > 0 || m != m ? g : 0; }

INLINE void bn_apply_body(float *y, const float *x, long rows, long c, const float *m, const float *a,
                          const float *b, const float *res, int relu) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * c, *rr = res ? res + r * c : 0;
        float *yr = y + r * c;
        long j = 0;
        for (; j + 8 <= c; j += 8) {
            v8 v = (ld(xr + j) - ld(m + j)) * ld(a + j) + ld(b + j);
            if (rr) v = v + ld(rr + j);
            st(yr + j, relu ? relu8(v) : v);
        }
        for (; j < c; j++) {
            float v = (xr[j] - m[j]) * a[j] + b[j];
            if (rr) v = v + rr[j];
            yr[j] = relu ? relu1(v) : v;
        }
    }
}

/* Rows in groups of about 8 KiB per operand (in L1 for every channel block); inside a group,
 * 16 (then 8) channels at a time with their sums in registers. The sums start at +0 and each
 * channel adds its rows in row order, as a plain loop does (storing and reloading a double
 * between groups is exact). A channel block that ran over all rows of the chunk at once
 * read memory at a stride of c floats and was latency-bound. */
INLINE void bn_sums_body(double *s1, double *s2, const float *p, const double *sa, const float *q,
                         const double *sb, const float *mask, long rows, long c) {
    for (long j = 0; j < c; j++) { s1[j] = 0; s2[j] = 0; }
    const long group = 2048 / c < 4 ? 4 : 2048 / c;
    for (long g0 = 0; g0 < rows; g0 += group) {
        const long g1 = g0 + group < rows ? g0 + group : rows;
        long j = 0;
        for (; j + 16 <= c; j += 16) {
            const v8d sa0 = ldd(sa + j), sa1 = ldd(sa + j + 8), sb0 = ldd(sb + j), sb1 = ldd(sb + j + 8);
            v8d t10 = ldd(s1 + j), t11 = ldd(s1 + j + 8), t20 = ldd(s2 + j), t21 = ldd(s2 + j + 8);
            for (long r = g0; r < g1; r++) {
                const long o = r * c + j;
                v8 p0 = ld(p + o), p1 = ld(p + o + 8);
                if (mask) { p0 = pass8(p0, ld(mask + o)); p1 = pass8(p1, ld(mask + o + 8)); }
                const v8d a0 = __builtin_convertvector(p0, v8d) - sa0, a1 = __builtin_convertvector(p1, v8d) - sa1;
                t10 = t10 + a0;
                t11 = t11 + a1;
                t20 = t20 + a0 * (__builtin_convertvector(ld(q + o), v8d) - sb0);
                t21 = t21 + a1 * (__builtin_convertvector(ld(q + o + 8), v8d) - sb1);
            }
            std8(s1 + j, t10); std8(s1 + j + 8, t11); std8(s2 + j, t20); std8(s2 + j + 8, t21);
        }
        for (; j + 8 <= c; j += 8) {
            const v8d sa0 = ldd(sa + j), sb0 = ldd(sb + j);
            v8d t1 = ldd(s1 + j), t2 = ldd(s2 + j);
            for (long r = g0; r < g1; r++) {
                const long o = r * c + j;
                v8 p0 = ld(p + o);
                if (mask) p0 = pass8(p0, ld(mask + o));
                const v8d a0 = __builtin_convertvector(p0, v8d) - sa0;
                t1 = t1 + a0;
                t2 = t2 + a0 * (__builtin_convertvector(ld(q + o), v8d) - sb0);
            }
            std8(s1 + j, t1); std8(s2 + j, t2);
        }
        for (; j < c; j++) {
            double t1 = s1[j], t2 = s2[j];
            for (long r = g0; r < g1; r++) {
                const long o = r * c + j;
                const float pv = mask ? pass1(p[o], mask[o]) : p[o];
                const double a = (double)pv - sa[j];
                t1 = t1 + a;
                t2 = t2 + a * ((double)q[o] - sb[j]);
            }
            s1[j] = t1; s2[j] = t2;
        }
    }
}

INLINE void bn_dx_body(float *dx, const float *dy, const float *x, const float *mask, long rows, long c,
                       const float *k1, const float *k2, const float *k3, const float *mf) {
    for (long r = 0; r < rows; r++) {
        const long o = r * c;
        long j = 0;
        for (; j + 8 <= c; j += 8) {
            v8 g = ld(dy + o + j);
            if (mask) g = pass8(g, ld(mask + o + j));
            st(dx + o + j, ld(k1 + j) * g + ld(k2 + j) * (ld(x + o + j) - ld(mf + j)) + ld(k3 + j));
        }
        for (; j < c; j++) {
            const float g = mask ? pass1(dy[o + j], mask[o + j]) : dy[o + j];
            dx[o + j] = k1[j] * g + k2[j] * (x[o + j] - mf[j]) + k3[j];
        }
    }
}

INLINE void relu_body(float *out, const float *in, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) st(out + i, relu8(ld(in + i)));
    for (; i < n; i++) out[i] = relu1(in[i]);
}

INLINE void relu_backward_body(float *din, const float *dout, const float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) st(din + i, pass8(ld(dout + i), ld(out + i)));
    for (; i < n; i++) din[i] = pass1(dout[i], out[i]);
}

INLINE void add_body(float *y, const float *a, const float *b, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) st(y + i, ld(a + i) + ld(b + i));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

#define AVX2 __attribute__((target("avx2")))
AVX2 static void bn_apply_avx2(float *y, const float *x, long rows, long c, const float *m, const float *a, const float *b, const float *res, int relu) { bn_apply_body(y, x, rows, c, m, a, b, res, relu); }
static void bn_apply_sse2(float *y, const float *x, long rows, long c, const float *m, const float *a, const float *b, const float *res, int relu) { bn_apply_body(y, x, rows, c, m, a, b, res, relu); }
AVX2 static void bn_sums_avx2(double *s1, double *s2, const float *p, const double *sa, const float *q, const double *sb, const float *mask, long rows, long c) { bn_sums_body(s1, s2, p, sa, q, sb, mask, rows, c); }
static void bn_sums_sse2(double *s1, double *s2, const float *p, const double *sa, const float *q, const double *sb, const float *mask, long rows, long c) { bn_sums_body(s1, s2, p, sa, q, sb, mask, rows, c); }
AVX2 static void bn_dx_avx2(float *dx, const float *dy, const float *x, const float *mask, long rows, long c, const float *k1, const float *k2, const float *k3, const float *mf) { bn_dx_body(dx, dy, x, mask, rows, c, k1, k2, k3, mf); }
static void bn_dx_sse2(float *dx, const float *dy, const float *x, const float *mask, long rows, long c, const float *k1, const float *k2, const float *k3, const float *mf) { bn_dx_body(dx, dy, x, mask, rows, c, k1, k2, k3, mf); }
AVX2 static void relu_avx2(float *o, const float *i, long n) { relu_body(o, i, n); }
static void relu_sse2(float *o, const float *i, long n) { relu_body(o, i, n); }
AVX2 static void relu_backward_avx2(float *d, const float *g, const float *o, long n) { relu_backward_body(d, g, o, n); }
static void relu_backward_sse2(float *d, const float *g, const float *o, long n) { relu_backward_body(d, g, o, n); }
AVX2 static void add_avx2(float *y, const float *a, const float *b, long n) { add_body(y, a, b, n); }
static void add_sse2(float *y, const float *a, const float *b, long n) { add_body(y, a, b, n); }

void rkan_bn_apply(float *y, const float *x, long rows, long c, const float *m, const float *a, const float *b,
                   const float *residual, int relu) {
    if (rkan_kernels_avx2()) bn_apply_avx2(y, x, rows, c, m, a, b, residual, relu);
    else bn_apply_sse2(y, x, rows, c, m, a, b, residual, relu);
}

void rkan_bn_sums(double *s1, double *s2, const float *p, const double *shift_p, const float *q,
                  const double *shift_q, const float *mask, long rows, long c) {
    if (rkan_kernels_avx2()) bn_sums_avx2(s1, s2, p, shift_p, q, shift_q, mask, rows, c);
    else bn_sums_sse2(s1, s2, p, shift_p, q, shift_q, mask, rows, c);
}

void rkan_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mask, long rows, long c,
                         const float *k1, const float *k2, const float *k3, const float *mean) {
    if (rkan_kernels_avx2()) bn_dx_avx2(dx, dy, x, mask, rows, c, k1, k2, k3, mean);
    else bn_dx_sse2(dx, dy, x, mask, rows, c, k1, k2, k3, mean);
}

void rkan_relu(float *out, const float *in, long n) {
    if (rkan_kernels_avx2()) relu_avx2(out, in, n); else relu_sse2(out, in, n);
}

void rkan_relu_backward(float *din, const float *dout, const float *out, long n) {
    if (rkan_kernels_avx2()) relu_backward_avx2(din, dout, out, n); else relu_backward_sse2(din, dout, out, n);
}

void rkan_add(float *y, const float *a, const float *b, long n) {
    if (rkan_kernels_avx2()) add_avx2(y, a, b, n); else add_sse2(y, a, b, n);
}
