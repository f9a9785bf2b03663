#ifndef RKAN_KERNELS_H
#define RKAN_KERNELS_H

/* Memory-bound kernels of the engine that Swift cannot compile for the CPU it runs on:
 * the tile transforms of the Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions, and BatchNorm,
 * ReLU and the residual add. Each is written once per vector width and built three times: for
 * baseline x86-64 (SSE2) and AVX2 on 8-float vectors, for AVX-512 on 16-float vectors; the widest
 * build the CPU and OS support runs (`rkan_kernels_isa`). All perform the same IEEE operations in
 * the same order on every value (adds, subtracts and multiplies, never fused; every lane
 * independent of the others), so they give the same bytes. */

#ifdef __cplusplus
extern "C" {
#endif

/* Tiling of one transform: the tensor transformed (or written) is (N, height, width, channels)
 * NHWC; tile t of the chunk covers image first_image + t / tiles_per_image, tile row
 * (t % tiles_per_image) / tiles_w, tile column (t % tiles_per_image) % tiles_w; pad shifts the
 * 4x4 input windows (input transform only); plane is the float stride between the 16 (or 36) planes
 * of the transform domain (at least tiles of the chunk x channels). channels must be a multiple of 8. */
typedef struct {
    long height, width, channels, pad, tiles_w, tiles_per_image, first_image, plane;
} rkan_wino_geometry;

/* F(2x2, 3x3): 4x4 windows at stride 2, 16 planes, 2x2 output tiles.
 * v[xi][t][c] = (B^T d B)_xi for tiles t0 <= t < t1; taps outside the image read zeros
 * (a buffer of at least `channels` zero floats). */
void rkan_wino_input(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                     long t0, long t1);

/* What an inference-mode BatchNorm (and the residual add and ReLU after it) does to a conv's output,
 * applied as the output is written: v = (y - mean) * scale + shift, then + residual (NULL: none; the
 * same (N, height, width, channels) indexing as the output), then max(v, 0) when relu (NaN, -0 give +0).
 * The bytes of running the ops one after another. */
typedef struct {
    const float *mean, *scale, *shift, *residual;
    int relu;
} rkan_epilogue;

/* out tile = A^T M A (+ bias, may be NULL) for tiles t0 <= t < t1, from m[xi][t][c], then the
 * epilogue (NULL: none); outputs past the edge of the (height x width) output are not written. */
void rkan_wino_output(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                      const rkan_wino_geometry *g, long t0, long t1);

/* dm[xi][t][c] = (A dY A^T)_xi for tiles t0 <= t < t1 from dY (height x width); positions past
 * the edge count as zeros. */
void rkan_wino_output_grad(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1);

/* The same three for F(4x4, 3x3) (points 0, 1, -1, 1/2, -2, infinity): 6x6 windows at stride 4, 36 planes, 4x4 output tiles. */
void rkan_wino4_input(float *v, const float *input, const float *zeros, const rkan_wino_geometry *g,
                      long t0, long t1);
void rkan_wino4_output(float *out, const float *m, const float *bias, const rkan_epilogue *ep,
                       const rkan_wino_geometry *g, long t0, long t1);
void rkan_wino4_output_grad(float *dm, const float *dout, const rkan_wino_geometry *g, long t0, long t1);

/* Weight transforms of F(m x m, 3x3), m = 2 or 4, for output channels o0 <= o < o1 (C a multiple of 8):
 * u[xi][o][c] = (G g G^T)_xi of the OHWI weight w (O, 3, 3, C), its kernel flipped in both axes when
 * flipped; and dw (O, 3, 3, C) += (G^T dU G) from du[xi][o][c] (stored, not added, when !accumulate).
 * plane (>= O * C) is the float stride between the planes xi of u and du. */
void rkan_wino_weights(float *u, const float *w, long O, long C, long plane, int m, int flipped, long o0, long o1);
void rkan_wino_weight_grad(float *dw, const float *du, long O, long C, long plane, int m, int accumulate, long o0,
                           long o1);

/* The own GEMM of the Winograd domain's products (wino_gemm.c; `ConvTuning.winogradGEMM`):
 * C (m x n, row stride ldc) = A (m x k, row stride lda) . B, B packed by rkan_wino_gemm_pack from
 * B (k x n, row stride ldb) or, when transposed, from B^T (n x k). Each element of C is one fused
 * multiply-add chain over k in order from +0, written once (no prior pass over C): the same bytes
 * in the AVX2 + FMA build and the scalar (fmaf) one. bp holds n x k floats; n is any width. */
void rkan_wino_gemm_pack(float *bp, const float *b, long ldb, long n, long k, int transposed);
void rkan_wino_gemm(float *c, long ldc, const float *a, long lda, const float *bp, long m, long n, long k);

/* Pointwise kernels over NHWC rows (rows x c, channel innermost), the same bytes in every build
 * (pointwise.c). y = (x - m) * a + b, then + residual (NULL: none), then max(., 0) when relu
 * (NaN and -0 give +0), per channel j: */
void rkan_bn_apply(float *y, const float *x, long rows, long c, const float *m, const float *a, const float *b,
                   const float *residual, int relu);
/* s1[j] = sum_r (P - shift_p[j]), s2[j] = sum_r (P - shift_p[j]) * (q - shift_q[j]) in double, rows
 * added in order from +0, where P = p, or (mask > 0 ? p : 0) when mask is not NULL. */
void rkan_bn_sums(double *s1, double *s2, const float *p, const double *shift_p, const float *q,
                  const double *shift_q, const float *mask, long rows, long c);
/* dx = k1 * G + k2 * (x - mean) + k3, G = dy or (mask > 0 ? dy : 0). */
void rkan_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mask, long rows, long c,
                         const float *k1, const float *k2, const float *k3, const float *mean);
/* out = in > 0 ? in : 0;  din = out > 0 ? dout : 0;  y = a + b (n floats each). */
void rkan_relu(float *out, const float *in, long n);
void rkan_relu_backward(float *din, const float *dout, const float *out, long n);
void rkan_add(float *y, const float *a, const float *b, long n);

/* The builds of every kernel above: baseline x86-64 (SSE2), AVX2, and AVX-512 (F, DQ, BW, VL),
 * all with the same bytes. The widest one the CPU and OS support runs, unless the environment
 * variable RKAN_KERNELS (sse2, avx2 or avx512) or `rkan_kernels_limit_isa` caps it. */
enum { RKAN_ISA_SSE2 = 0, RKAN_ISA_AVX2 = 1, RKAN_ISA_AVX512 = 2 };
/* The build that runs now. */
int rkan_kernels_isa(void);
/* The widest build this CPU and OS run (CPUID and XGETBV, `rkan_cpu_features`). */
int rkan_kernels_isa_supported(void);
/* Runs at most build `isa` (for tests and A/B comparisons); RKAN_ISA_AVX512 restores the widest. */
void rkan_kernels_limit_isa(int isa);
/* For tests on CPUs without AVX-512: when on and the AVX2 build runs, it runs the AVX-512 build's
 * 16-float code (each 16-float operation as two 8-float ones), so that code's bytes can be checked
 * where AVX-512 does not run. Off by default. */
void rkan_kernels_wide_on_avx2(int on);

/* CPU features (CPUID, with the OS's XSAVE state for AVX and AVX-512): a mask of RKAN_CPU_*. */
enum {
    RKAN_CPU_SSE2 = 1u << 0, RKAN_CPU_SSE3 = 1u << 1, RKAN_CPU_SSSE3 = 1u << 2, RKAN_CPU_SSE41 = 1u << 3,
    RKAN_CPU_SSE42 = 1u << 4, RKAN_CPU_AVX = 1u << 5, RKAN_CPU_AVX2 = 1u << 6, RKAN_CPU_FMA = 1u << 7,
    RKAN_CPU_AVX512 = 1u << 8,       /* F + DQ + CD + BW + VL with ZMM state enabled */
    RKAN_CPU_AVX512BF16 = 1u << 9,
    RKAN_CPU_AMD = 1u << 16, RKAN_CPU_INTEL = 1u << 17
};
unsigned rkan_cpu_features(void);

#ifdef __cplusplus
}
#endif
#endif
