#include "rkan_kernels.h"

/* Pointwise kernels of BatchNorm, ReLU and the residual add over NHWC rows (rows x c floats,
 * channel innermost), built like the Winograd transforms: for baseline x86-64 (SSE2), AVX2 and
 * AVX-512, the build chosen at run time (`rkan_kernels_isa`). Swift compiles the engine for
 * baseline x86-64, where these loops ran on 4 floats (2 doubles) at a time. The AVX-512 build
 * takes 16 floats at a time where they fit, then 8, the others 8; then each does a scalar tail.
 * Every value goes through the same IEEE operations in the same order in every build and in
 * the tails (never fused: `fp contract(off)`; no lane depends on another), and each per-channel
 * sum adds its rows in row order from +0: the bytes of the plain loops they replace. */
#include "vec.h"

typedef double v8d __attribute__((vector_size(64)));

INLINE v8d ldd(const double *p) { v8d v; memcpy(&v, p, sizeof v); return v; }
INLINE void std8(double *p, v8d v) { memcpy(p, &v, sizeof v); }
/* The scalar forms of relu8 and pass8 (vec.h): NaN passes, -0 gives +0. */
INLINE float relu1(float v) { return v > 0 || v != v ? v : 0; }
INLINE float pass1(float g, float m) { return m > 0 || m != m ? g : 0; }

INLINE void bn_apply_body(float *y, const float *x, long rows, long c, const float *m, const float *a,
                          const float *b, const float *res, int relu, int wide) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * c, *rr = res ? res + r * c : 0;
        float *yr = y + r * c;
        long j = 0;
        if (wide)
            for (; j + 16 <= c; j += 16) {
                v16 v = (ld16(xr + j) - ld16(m + j)) * ld16(a + j) + ld16(b + j);
                if (rr) v = v + ld16(rr + j);
                st16(yr + j, relu ? relu16(v) : v);
            }
        for (; j + 8 <= c; j += 8) {
            v8 v = (ld8(xr + j) - ld8(m + j)) * ld8(a + j) + ld8(b + j);
            if (rr) v = v + ld8(rr + j);
            st8(yr + j, relu ? relu8(v) : v);
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
                         const double *sb, const float *mask, long rows, long c, int wide) {
    (void)wide;   /* the AVX-512 build holds each 8-double sum in one register: no wider block */
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
                v8 p0 = ld8(p + o), p1 = ld8(p + o + 8);
                if (mask) { p0 = pass8(p0, ld8(mask + o)); p1 = pass8(p1, ld8(mask + o + 8)); }
                const v8d a0 = __builtin_convertvector(p0, v8d) - sa0, a1 = __builtin_convertvector(p1, v8d) - sa1;
                t10 = t10 + a0;
                t11 = t11 + a1;
                t20 = t20 + a0 * (__builtin_convertvector(ld8(q + o), v8d) - sb0);
                t21 = t21 + a1 * (__builtin_convertvector(ld8(q + o + 8), v8d) - sb1);
            }
            std8(s1 + j, t10); std8(s1 + j + 8, t11); std8(s2 + j, t20); std8(s2 + j + 8, t21);
        }
        for (; j + 8 <= c; j += 8) {
            const v8d sa0 = ldd(sa + j), sb0 = ldd(sb + j);
            v8d t1 = ldd(s1 + j), t2 = ldd(s2 + j);
            for (long r = g0; r < g1; r++) {
                const long o = r * c + j;
                v8 p0 = ld8(p + o);
                if (mask) p0 = pass8(p0, ld8(mask + o));
                const v8d a0 = __builtin_convertvector(p0, v8d) - sa0;
                t1 = t1 + a0;
                t2 = t2 + a0 * (__builtin_convertvector(ld8(q + o), v8d) - sb0);
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
                       const float *k1, const float *k2, const float *k3, const float *mf, int wide) {
    for (long r = 0; r < rows; r++) {
        const long o = r * c;
        long j = 0;
        if (wide)
            for (; j + 16 <= c; j += 16) {
                v16 g = ld16(dy + o + j);
                if (mask) g = pass16(g, ld16(mask + o + j));
                st16(dx + o + j, ld16(k1 + j) * g + ld16(k2 + j) * (ld16(x + o + j) - ld16(mf + j)) + ld16(k3 + j));
            }
        for (; j + 8 <= c; j += 8) {
            v8 g = ld8(dy + o + j);
            if (mask) g = pass8(g, ld8(mask + o + j));
            st8(dx + o + j, ld8(k1 + j) * g + ld8(k2 + j) * (ld8(x + o + j) - ld8(mf + j)) + ld8(k3 + j));
        }
        for (; j < c; j++) {
            const float g = mask ? pass1(dy[o + j], mask[o + j]) : dy[o + j];
            dx[o + j] = k1[j] * g + k2[j] * (x[o + j] - mf[j]) + k3[j];
        }
    }
}

INLINE void relu_body(float *out, const float *in, long n, int wide) {
    long i = 0;
    if (wide) for (; i + 16 <= n; i += 16) st16(out + i, relu16(ld16(in + i)));
    for (; i + 8 <= n; i += 8) st8(out + i, relu8(ld8(in + i)));
    for (; i < n; i++) out[i] = relu1(in[i]);
}

INLINE void relu_backward_body(float *din, const float *dout, const float *out, long n, int wide) {
    long i = 0;
    if (wide) for (; i + 16 <= n; i += 16) st16(din + i, pass16(ld16(dout + i), ld16(out + i)));
    for (; i + 8 <= n; i += 8) st8(din + i, pass8(ld8(dout + i), ld8(out + i)));
    for (; i < n; i++) din[i] = pass1(dout[i], out[i]);
}

INLINE void add_body(float *y, const float *a, const float *b, long n, int wide) {
    long i = 0;
    if (wide) for (; i + 16 <= n; i += 16) st16(y + i, ld16(a + i) + ld16(b + i));
    for (; i + 8 <= n; i += 8) st8(y + i, ld8(a + i) + ld8(b + i));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

/* The builds of each kernel and their entry points (vec.h). */
RKAN_BUILDS(rkan_bn_apply, bn_apply, (float *y, const float *x, long rows, long c, const float *m, const float *a,
                                      const float *b, const float *residual, int relu),
            y, x, rows, c, m, a, b, residual, relu)
RKAN_BUILDS(rkan_bn_sums, bn_sums, (double *s1, double *s2, const float *p, const double *shift_p, const float *q,
                                    const double *shift_q, const float *mask, long rows, long c),
            s1, s2, p, shift_p, q, shift_q, mask, rows, c)
RKAN_BUILDS(rkan_bn_backward_dx, bn_dx, (float *dx, const float *dy, const float *x, const float *mask, long rows, long c,
                                         const float *k1, const float *k2, const float *k3, const float *mean),
            dx, dy, x, mask, rows, c, k1, k2, k3, mean)
RKAN_BUILDS(rkan_relu, relu, (float *out, const float *in, long n), out, in, n)
RKAN_BUILDS(rkan_relu_backward, relu_backward, (float *din, const float *dout, const float *out, long n), din, dout, out, n)
RKAN_BUILDS(rkan_add, add, (float *y, const float *a, const float *b, long n), y, a, b, n)
