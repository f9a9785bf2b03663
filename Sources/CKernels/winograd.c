#include "rkan_kernels.h"

#include "vec.h"

#define V v8
#define LD ld8
#define ST st8
#define RELU relu8
#define FN(name) name##8
#include "winograd_lanes.h"
#undef V
#undef LD
#undef ST
#undef RELU
#undef FN
#define V v16
#define LD ld16
#define ST st16
#define RELU relu16
#define FN(name) name##16
#include "winograd_lanes.h"
#undef V
#undef LD
#undef ST
#undef RELU
#undef FN

/* The channel loop of every kernel: blocks of 16 channels while they fit when `wide` (the AVX-512
 * build, a compile-time constant in each build), then blocks of 8 (C is a multiple of 8). */
#define CHANNELS(C, wide, block, ...)                                       \
    do {                                                                    \
        long ch = 0;                                                        \
        if (wide) for (; ch + 16 <= (C); ch += 16) block##16(__VA_ARGS__);  \
        for (; ch < (C); ch += 8) block##8(__VA_ARGS__);                    \
    } while (0)

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

INLINE void input_body(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                       long t0, long t1, int wide) {
    const long C = g->channels, plane = g->plane;
    const float *p[16];
    for (long t = t0; t < t1; t++) {
        window(g, input, zeros, t, 2, p);
        float *dst = v + t * C;
        CHANNELS(C, wide, input_block, dst, p, plane, ch);
    }
}

INLINE void output_body(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                        const rkan_wino_geometry *g, long t0, long t1, int wide) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        float *base = out + out_tile(g, t, 2, &rows, &cols);
        int right = cols > 1, down = rows > 1;
        const float *src = m + t * O;
        CHANNELS(O, wide, output_block, base, src, plane, bias, ep, out, O, Wo, right, down, ch);
    }
}

INLINE void output_grad_body(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1, int wide) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        const float *base = dout + out_tile(g, t, 2, &rows, &cols);
        int right = cols > 1, down = rows > 1;
        float *dst = dm + t * O;
        CHANNELS(O, wide, output_grad_block, dst, base, plane, O, Wo, right, down, ch);
    }
}

/* ---- F(4x4, 3x3): 6x6 input windows, 36 planes, 4x4 output tiles. Interpolation points
 * 0, 1, -1, 1/2, -2 and infinity (Barabasz, Anderson, Soodhalter & Gregg 2020): about 3x less
 * rounding error than Lavin & Gray's 0, +-1, +-2 at the same cost in multiplies. ---- */

INLINE void input4_body(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                        long t0, long t1, int wide) {
    const long C = g->channels, plane = g->plane;
    const float *p[36];
    for (long t = t0; t < t1; t++) {
        window(g, input, zeros, t, 4, p);
        float *dst = v + t * C;
        CHANNELS(C, wide, input4_block, dst, p, plane, ch);
    }
}

INLINE void output4_body(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                         const rkan_wino_geometry *g, long t0, long t1, int wide) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        float *base = out + out_tile(g, t, 4, &rows, &cols);
        const float *src = m + t * O;
        CHANNELS(O, wide, output4_block, base, src, plane, bias, ep, out, O, Wo, rows, cols, ch);
    }
}

INLINE void output_grad4_body(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1, int wide) {
    const long Wo = g->width, O = g->channels, plane = g->plane;
    for (long t = t0; t < t1; t++) {
        long rows, cols;
        const float *base = dout + out_tile(g, t, 4, &rows, &cols);
        float *dst = dm + t * O;
        CHANNELS(O, wide, output_grad4_block, dst, base, plane, O, Wo, rows, cols, ch);
    }
}

/* Weight transforms for output channels o0 <= o < o1 (C a multiple of 8): the bytes of the
 * Swift SIMD8 loops these replaced. */
INLINE void weights_body(float *u, const float *w, long O, long C, long plane, int m, int flipped, long o0, long o1,
                         int wide) {
    for (long o = o0; o < o1; o++) CHANNELS(C, wide, weights_block, u, w, o, C, plane, m, flipped, ch);
}

INLINE void weight_grad_body(float *dw, const float *du, long O, long C, long plane, int m, int accumulate, long o0,
                             long o1, int wide) {
    for (long o = o0; o < o1; o++) {
        const float *src = du + o * C;
        float *g = dw + o * 9 * C;
        CHANNELS(C, wide, weight_grad_block, g, src, C, plane, m, accumulate, ch);
    }
}

/* The builds of each kernel and their entry points (vec.h: SSE2 and AVX2 on 8 floats, AVX-512 on 16). */
#define P_IN (float *v, const float *input, const float *zeros, const rkan_wino_geometry *g, long t0, long t1)
#define P_OUT (float *out, const float *m, const float *bias, const rkan_epilogue *ep, const rkan_wino_geometry *g, long t0, long t1)
#define P_GRAD (float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1)
#define P_W (float *u, const float *w, long O, long C, long plane, int m, int flipped, long o0, long o1)
#define P_WG (float *dw, const float *du, long O, long C, long plane, int m, int accumulate, long o0, long o1)

RKAN_BUILDS(rkan_wino_input, input, P_IN, v, input, zeros, g, t0, t1)
RKAN_BUILDS(rkan_wino_output, output, P_OUT, out, m, bias, ep, g, t0, t1)
RKAN_BUILDS(rkan_wino_output_grad, output_grad, P_GRAD, dm, dout, g, t0, t1)
RKAN_BUILDS(rkan_wino4_input, input4, P_IN, v, input, zeros, g, t0, t1)
RKAN_BUILDS(rkan_wino4_output, output4, P_OUT, out, m, bias, ep, g, t0, t1)
RKAN_BUILDS(rkan_wino4_output_grad, output_grad4, P_GRAD, dm, dout, g, t0, t1)
RKAN_BUILDS(rkan_wino_weights, weights, P_W, u, w, O, C, plane, m, flipped, o0, o1)
RKAN_BUILDS(rkan_wino_weight_grad, weight_grad, P_WG, dw, du, O, C, plane, m, accumulate, o0, o1)

