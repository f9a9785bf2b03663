#include "rkan_kernels.h"

#include <cpuid.h>

#include "vec8.h"

/* 1-D transforms on 4 (or 2) vectors: B^T x, A^T x, A x. */
INLINE void bt(v8 a, v8 b, v8 c, v8 d, v8 o[4]) { o[0] = a - c; o[1] = b + c; o[2] = c - b; o[3] = b - d; }
INLINE void at(v8 a, v8 b, v8 c, v8 d, v8 o[2]) { o[0] = a + b + c; o[1] = b - c - d; }
INLINE void ax(v8 a, v8 b, v8 o[4]) { o[0] = a; o[1] = a + b; o[2] = a - b; o[3] = -b; }

/* Stores v at o (an address of the output `out`), through the epilogue when there is one. */
INLINE void put(float *o, v8 v, const rkan_epilogue *ep, const float *out, long ch) {
    if (ep) {
        v = (v - ld(ep->mean + ch)) * ld(ep->scale + ch) + ld(ep->shift + ch);
        if (ep->residual) v = v + ld(ep->residual + (o - out));
        if (ep->relu) v = relu8(v);
    }
    st(o, v);
}

INLINE void tile_of(const rkan_wino_geometry *g, long t, long *n, long *ty, long *tx) {
    long rem = t % g->tiles_per_image;
    *n = g->first_image + t / g->tiles_per_image;
    *ty = rem / g->tiles_w;
    *tx = rem % g->tiles_w;
}

/* p[a*r + c] = the input pixel (channel 0) under tap (r, c) of tile t's a x a window (a = m + 2,
 * windows at stride m, shifted by pad), or `zeros` outside the image. */
INLINE void window(const rkan_wino_geometry *g, const float *input, const float *zeros, long t, int m,
                   const float **p) {
    const long H = g->height, W = g->width, C = g->channels;
    const int a = m + 2;
    long n, ty, tx;
    tile_of(g, t, &n, &ty, &tx);
    long y0 = m * ty - g->pad, x0 = m * tx - g->pad;
    for (int r = 0; r < a; r++)
        for (int c = 0; c < a; c++) {
            long y = y0 + r, x = x0 + c;
            p[a * r + c] = (y >= 0 && y < H && x >= 0 && x < W) ? input + ((n * H + y) * W + x) * C : zeros;
        }
}

INLINE void input_body(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                       long t0, long t1) {
    const long C = g->channels, plane = g->plane;
    const float *p[16];
    for (long t = t0; t < t1; t++) {
        window(g, input, zeros, t, 2, p);
        float *dst = v + t * C;
        for (long ch = 0; ch < C; ch += 8) {
            v8 q[4][4], o[4];
            for (int r = 0; r < 4; r++)   /* rows of d times B */
                bt(ld(p[4 * r] + ch), ld(p[4 * r + 1] + ch), ld(p[4 * r + 2] + ch), ld(p[4 * r + 3] + ch), q[r]);
            for (int j = 0; j < 4; j++) {  /* B^T times columns */
                bt(q[0][j], q[1][j], q[2][j], q[3][j], o);
                for (int i = 0; i < 4; i++) st(dst + (4 * i + j) * plane + ch, o[i]);
            }
        }
    }
}

/* Offset (in floats) of tile t's first output pixel in the (height x width) output, and how many
 * of its m rows and columns lie inside. */
INLINE long out_tile(const rkan_wino_geometry *g, long t, long m, long *rows, long *cols) {
    long n, ty, tx;
    tile_of(g, t, &n, &ty, &tx);
    long oy = m * ty, ox = m * tx;
    *rows = g->height - oy < m ? g->height - oy : m;
    *cols = g->width - ox < m ? g->width - ox : m;
    return ((n * g->height + oy) * g->width + ox) * g->channels;
}

INLINE void output_body(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                        const rkan_wino_geometry *g, long t0, long t1) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        float *base = out + out_tile(g, t, 2, &rows, &cols);
        int right = cols > 1, down = rows > 1;
        const float *src = m + t * O;
        for (long ch = 0; ch < O; ch += 8) {
            const float *p = src + ch;
            v8 s[4][2], y0[2], y1[2];
            for (int i = 0; i < 4; i++)   /* rows of M times A */
                at(ld(p + (4 * i) * plane), ld(p + (4 * i + 1) * plane), ld(p + (4 * i + 2) * plane),
                   ld(p + (4 * i + 3) * plane), s[i]);
            at(s[0][0], s[1][0], s[2][0], s[3][0], y0);   /* column 0: (y00, y10) */
            at(s[0][1], s[1][1], s[2][1], s[3][1], y1);   /* column 1: (y01, y11) */
            if (bias) {
                v8 b = ld(bias + ch);
                y0[0] += b; y0[1] += b; y1[0] += b; y1[1] += b;
            }
            float *o = base + ch;
            put(o, y0[0], ep, out, ch);
            if (right) put(o + O, y1[0], ep, out, ch);
            if (down) {
                put(o + Wo * O, y0[1], ep, out, ch);
                if (right) put(o + Wo * O + O, y1[1], ep, out, ch);
            }
        }
    }
}

INLINE void output_grad_body(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    const v8 zero = {0};
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        const float *base = dout + out_tile(g, t, 2, &rows, &cols);
        int right = cols > 1, down = rows > 1;
        float *dst = dm + t * O;
        for (long ch = 0; ch < O; ch += 8) {
            const float *p = base + ch;
            v8 y00 = ld(p), y01 = right ? ld(p + O) : zero;
            v8 y10 = down ? ld(p + Wo * O) : zero, y11 = down && right ? ld(p + Wo * O + O) : zero;
            v8 e0[4], e1[4], o[4];
            ax(y00, y01, e0);   /* rows of dY times A^T */
            ax(y10, y11, e1);
            for (int j = 0; j < 4; j++) {
                ax(e0[j], e1[j], o);
                for (int i = 0; i < 4; i++) st(dst + (4 * i + j) * plane + ch, o[i]);
            }
        }
    }
}

/* ---- F(4x4, 3x3): 6x6 input windows, 36 planes, 4x4 output tiles. Interpolation points
 * 0, 1, -1, 1/2, -2 and infinity (Barabasz, Anderson, Soodhalter & Gregg 2020): about 3x less
 * rounding error than Lavin & Gray's 0, +-1, +-2 at the same cost in multiplies. ---- */

/* B^T x for a 6-vector x. */
INLINE void bt6(const v8 x[6], v8 o[6]) {
    o[0] = ((x[0] - x[2] * 2.0f) + x[4]) + (x[3] - x[1]) * 1.5f;
    o[1] = (x[4] - x[1]) + (x[2] * 0.5f + x[3] * 2.5f);
    o[2] = (x[4] + x[1]) + (x[3] * 0.5f - x[2] * 2.5f);
    o[3] = (x[3] - x[1]) * 2.0f + (x[4] - x[2]);
    o[4] = (x[1] - x[3]) * 0.5f + (x[4] - x[2]);
    o[5] = ((x[1] - x[3] * 2.0f) + x[5]) + (x[4] - x[2]) * 1.5f;
}
/* A^T x for a 6-vector x (4 values). */
INLINE void at6(const v8 x[6], v8 o[4]) {
    v8 t1 = x[1] + x[2], t2 = x[1] - x[2];
    o[0] = (x[0] + t1) + (x[3] + x[4]);
    o[1] = t2 + (x[3] * 0.5f - x[4] * 2.0f);
    o[2] = t1 + (x[3] * 0.25f + x[4] * 4.0f);
    o[3] = (t2 + (x[3] * 0.125f - x[4] * 8.0f)) + x[5];
}
/* A x for a 4-vector x (6 values). */
INLINE void ax6(const v8 y[4], v8 o[6]) {
    v8 e = y[0] + y[2], f = y[1] + y[3];
    o[0] = y[0]; o[1] = e + f; o[2] = e - f;
    o[3] = (y[0] + y[2] * 0.25f) + (y[1] * 0.5f + y[3] * 0.125f);
    o[4] = (y[0] + y[2] * 4.0f) - (y[1] * 2.0f + y[3] * 8.0f);
    o[5] = y[3];
}

INLINE void input4_body(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                        long t0, long t1) {
    const long C = g->channels, plane = g->plane;
    const float *p[36];
    for (long t = t0; t < t1; t++) {
        window(g, input, zeros, t, 4, p);
        float *dst = v + t * C;
        for (long ch = 0; ch < C; ch += 8) {
            v8 q[6][6], col[6], o[6];
            for (int r = 0; r < 6; r++) {   /* rows of d times B */
                v8 row[6];
                for (int c = 0; c < 6; c++) row[c] = ld(p[6 * r + c] + ch);
                bt6(row, q[r]);
            }
            for (int j = 0; j < 6; j++) {   /* B^T times columns */
                for (int r = 0; r < 6; r++) col[r] = q[r][j];
                bt6(col, o);
                for (int i = 0; i < 6; i++) st(dst + (6 * i + j) * plane + ch, o[i]);
            }
        }
    }
}

INLINE void output4_body(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                         const rkan_wino_geometry *g, long t0, long t1) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        float *base = out + out_tile(g, t, 4, &rows, &cols);
        const float *src = m + t * O;
        for (long ch = 0; ch < O; ch += 8) {
            const float *p = src + ch;
            v8 s[6][4], col[6], y[4];
            for (int i = 0; i < 6; i++) {   /* rows of M times A */
                v8 row[6];
                for (int j = 0; j < 6; j++) row[j] = ld(p + (6 * i + j) * plane);
                at6(row, s[i]);
            }
            v8 b = {0};
            if (bias) b = ld(bias + ch);
            for (long j = 0; j < cols; j++) {   /* A^T times columns */
                for (int i = 0; i < 6; i++) col[i] = s[i][j];
                at6(col, y);
                for (long r = 0; r < rows; r++) put(base + (r * Wo + j) * O + ch, bias ? y[r] + b : y[r], ep, out, ch);
            }
        }
    }
}

INLINE void output_grad4_body(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    const v8 zero = {0};
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        const float *base = dout + out_tile(g, t, 4, &rows, &cols);
        float *dst = dm + t * O;
        for (long ch = 0; ch < O; ch += 8) {
            v8 e[4][6], col[4], o[6];
            for (int r = 0; r < 4; r++) {   /* rows of dY times A^T */
                v8 row[4];
                for (int c = 0; c < 4; c++) row[c] = (r < rows && c < cols) ? ld(base + (r * Wo + c) * O + ch) : zero;
                ax6(row, e[r]);
            }
            for (int j = 0; j < 6; j++) {   /* A times columns */
                for (int r = 0; r < 4; r++) col[r] = e[r][j];
                ax6(col, o);
                for (int i = 0; i < 6; i++) st(dst + (6 * i + j) * plane + ch, o[i]);
            }
        }
    }
}

/* The two builds of each kernel. */
__attribute__((target("avx2"))) static void input_avx2(float *v, const float *i, const float *z, const rkan_wino_geometry *g, long a, long b) { input_body(v, i, z, g, a, b); }
static void input_sse2(float *v, const float *i, const float *z, const rkan_wino_geometry *g, long a, long b) { input_body(v, i, z, g, a, b); }
__attribute__((target("avx2"))) static void output_avx2(float *o, const float *m, const float *bias, const rkan_epilogue *e, const rkan_wino_geometry *g, long a, long b) { output_body(o, m, bias, e, g, a, b); }
static void output_sse2(float *o, const float *m, const float *bias, const rkan_epilogue *e, const rkan_wino_geometry *g, long a, long b) { output_body(o, m, bias, e, g, a, b); }
__attribute__((target("avx2"))) static void output_grad_avx2(float *d, const float *y, const rkan_wino_geometry *g, long a, long b) { output_grad_body(d, y, g, a, b); }
static void output_grad_sse2(float *d, const float *y, const rkan_wino_geometry *g, long a, long b) { output_grad_body(d, y, g, a, b); }
__attribute__((target("avx2"))) static void input4_avx2(float *v, const float *i, const float *z, const rkan_wino_geometry *g, long a, long b) { input4_body(v, i, z, g, a, b); }
static void input4_sse2(float *v, const float *i, const float *z, const rkan_wino_geometry *g, long a, long b) { input4_body(v, i, z, g, a, b); }
__attribute__((target("avx2"))) static void output4_avx2(float *o, const float *m, const float *bias, const rkan_epilogue *e, const rkan_wino_geometry *g, long a, long b) { output4_body(o, m, bias, e, g, a, b); }
static void output4_sse2(float *o, const float *m, const float *bias, const rkan_epilogue *e, const rkan_wino_geometry *g, long a, long b) { output4_body(o, m, bias, e, g, a, b); }
__attribute__((target("avx2"))) static void output_grad4_avx2(float *d, const float *y, const rkan_wino_geometry *g, long a, long b) { output_grad4_body(d, y, g, a, b); }
static void output_grad4_sse2(float *d, const float *y, const rkan_wino_geometry *g, long a, long b) { output_grad4_body(d, y, g, a, b); }

/* CPUID leaf 7 EBX bit 5 (AVX2), leaf 1 ECX bits 27 (OSXSAVE) and 28 (AVX), XCR0 bits 1-2
 * (the OS saves XMM and YMM state). */
static int cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;
}

static int allowed = 1;
static int detected = -1;

int rkan_kernels_avx2(void) {
    if (detected < 0) detected = cpu_has_avx2();
    return allowed && detected;
}

void rkan_kernels_allow_avx2(int on) { allowed = on != 0; }

void rkan_wino_input(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) input_avx2(v, input, zeros, g, t0, t1); else input_sse2(v, input, zeros, g, t0, t1);
}

void rkan_wino_output(float *out, const float *m, const float *bias, const rkan_epilogue *ep, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) output_avx2(out, m, bias, ep, g, t0, t1); else output_sse2(out, m, bias, ep, g, t0, t1);
}

void rkan_wino_output_grad(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) output_grad_avx2(dm, dout, g, t0, t1); else output_grad_sse2(dm, dout, g, t0, t1);
}

void rkan_wino4_input(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) input4_avx2(v, input, zeros, g, t0, t1); else input4_sse2(v, input, zeros, g, t0, t1);
}

void rkan_wino4_output(float *out, const float *m, const float *bias, const rkan_epilogue *ep, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) output4_avx2(out, m, bias, ep, g, t0, t1); else output4_sse2(out, m, bias, ep, g, t0, t1);
}

void rkan_wino4_output_grad(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1) {
    if (rkan_kernels_avx2()) output_grad4_avx2(dm, dout, g, t0, t1); else output_grad4_sse2(dm, dout, g, t0, t1);
}

/* Weight transforms, on 8 channels at a time (C a multiple of 8), for output channels o0 <= o < o1.
 * G x for a 3-vector (alpha = m + 2 outputs) and G^T x for an alpha-vector (G in Winograd.swift);
 * the order of every operation is fixed (no reassociation, no fusion): the bytes of the Swift
 * SIMD8 loops these replaced. */
INLINE void gx(int m, v8 a, v8 b, v8 c, v8 *o) {
    if (m == 2) {
        o[0] = a; o[1] = 0.5f * (a + b + c); o[2] = 0.5f * (a - b + c); o[3] = c;
    } else {
        const float k3 = 1.0f / 3.0f, k15 = 1.0f / 15.0f;
        const v8 s = a + c;
        o[0] = a;
        o[1] = k3 * (s + b);
        o[2] = k3 * (b - s);
        o[3] = -k15 * ((16.0f * a + 8.0f * b) + 4.0f * c);
        o[4] = k15 * ((a + 4.0f * c) - 2.0f * b);
        o[5] = c;
    }
}

INLINE void gtx(int m, const v8 *x, int stride, v8 *o) {
    if (m == 2) {
        const v8 h = 0.5f * (x[stride] + x[2 * stride]), k = 0.5f * (x[stride] - x[2 * stride]);
        o[0] = x[0] + h; o[1] = k; o[2] = h + x[3 * stride];
        return;
    }
    const float k3 = 1.0f / 3.0f, k15 = 1.0f / 15.0f;
    const v8 x3 = x[3 * stride], x4 = x[4 * stride];
    const v8 s12 = x[stride] + x[2 * stride], d12 = x[stride] - x[2 * stride];
    o[0] = x[0] + k3 * d12 + k15 * (x4 - 16.0f * x3);
    o[1] = k3 * s12 - k15 * (8.0f * x3 + 2.0f * x4);
    o[2] = (k3 * d12 + k15 * (4.0f * x4 - 4.0f * x3)) + x[5 * stride];
}

INLINE void weights_body(float *u, const float *w, long O, long C, int m, int flipped, long o0, long o1) {
    const int a = m + 2;
    const long plane = O * C;
    v8 g[9], h[18], row[6];
    for (long o = o0; o < o1; o++)
        for (long ch = 0; ch < C; ch += 8) {
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++) {
                    int sh = flipped ? 2 - kh : kh, sw = flipped ? 2 - kw : kw;
                    g[3 * kh + kw] = ld(w + ((o * 3 + sh) * 3 + sw) * C + ch);
                }
            for (int kw = 0; kw < 3; kw++) {   /* G times each column */
                gx(m, g[kw], g[3 + kw], g[6 + kw], row);
                for (int i = 0; i < a; i++) h[3 * i + kw] = row[i];
            }
            for (int i = 0; i < a; i++) {      /* each row times G^T */
                gx(m, h[3 * i], h[3 * i + 1], h[3 * i + 2], row);
                for (int j = 0; j < a; j++) st(u + (a * i + j) * plane + o * C + ch, row[j]);
            }
        }
}

INLINE void weight_grad_body(float *dw, const float *du, long O, long C, int m, int accumulate, long o0, long o1) {
    const int a = m + 2;
    const long plane = O * C;
    v8 x[36], f[18], c3[3];
    for (long o = o0; o < o1; o++) {
        const float *src = du + o * C;
        float *g = dw + o * 9 * C;
        for (long ch = 0; ch < C; ch += 8) {
            for (int xi = 0; xi < a * a; xi++) x[xi] = ld(src + xi * plane + ch);
            for (int i = 0; i < a; i++) {      /* each row times G */
                gtx(m, x + a * i, 1, c3);
                f[3 * i] = c3[0]; f[3 * i + 1] = c3[1]; f[3 * i + 2] = c3[2];
            }
            for (int kw = 0; kw < 3; kw++) {   /* G^T times each column */
                gtx(m, f + kw, 3, c3);
                float *q0 = g + kw * C + ch, *q1 = g + (3 + kw) * C + ch, *q2 = g + (6 + kw) * C + ch;
                if (accumulate) { st(q0, ld(q0) + c3[0]); st(q1, ld(q1) + c3[1]); st(q2, ld(q2) + c3[2]); }
                else { st(q0, c3[0]); st(q1, c3[1]); st(q2, c3[2]); }
            }
        }
    }
}

__attribute__((target("avx2"))) static void weights_avx2(float *u, const float *w, long O, long C, int m, int f, long o0, long o1) { weights_body(u, w, O, C, m, f, o0, o1); }
static void weights_sse2(float *u, const float *w, long O, long C, int m, int f, long o0, long o1) { weights_body(u, w, O, C, m, f, o0, o1); }
__attribute__((target("avx2"))) static void weight_grad_avx2(float *d, const float *u, long O, long C, int m, int acc, long o0, long o1) { weight_grad_body(d, u, O, C, m, acc, o0, o1); }
static void weight_grad_sse2(float *d, const float *u, long O, long C, int m, int acc, long o0, long o1) { weight_grad_body(d, u, O, C, m, acc, o0, o1); }

void rkan_wino_weights(float *u, const float *w, long O, long C, int m, int flipped, long o0, long o1) {
    if (rkan_kernels_avx2()) weights_avx2(u, w, O, C, m, flipped, o0, o1); else weights_sse2(u, w, O, C, m, flipped, o0, o1);
}

void rkan_wino_weight_grad(float *dw, const float *du, long O, long C, int m, int accumulate, long o0, long o1) {
    if (rkan_kernels_avx2()) weight_grad_avx2(dw, du, O, C, m, accumulate, o0, o1); else weight_grad_sse2(dw, du, O, C, m, accumulate, o0, o1);
}
