/* Shared by the CKernels sources (private to the target): 8- and 16-float vectors and their
 * helpers. Everything is always inlined, so no vector crosses a call boundary and the ABI note
 * (-Wpsabi) about AVX vectors in the SSE2 builds does not apply. No fused multiply-adds: every
 * build must round every operation the same way. */
#ifndef RKAN_VEC_H
#define RKAN_VEC_H

#pragma clang diagnostic ignored "-Wpsabi"
#pragma clang fp contract(off)
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

#define INLINE static inline __attribute__((always_inline))

INLINE v8 ld8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
INLINE void st8(float *p, v8 v) { memcpy(p, &v, sizeof v); }
INLINE v16 ld16(const float *p) { v16 v; memcpy(&v, p, sizeof v); return v; }
INLINE void st16(float *p, v16 v) { memcpy(p, &v, sizeof v); }
/* v > 0 or NaN ? v : +0 (-0 gives +0), as ReLU's forward: NaN passes through, as in PyTorch, so
 * the divergence checks see a NaN that arises upstream of a ReLU. */
INLINE v8 relu8(v8 v) { const v8 zero = {0}; return (v8)((v8i)v & ((v8i)(v > zero) | (v8i)(v != v))); }
INLINE v16 relu16(v16 v) { const v16 zero = {0}; return (v16)((v16i)v & ((v16i)(v > zero) | (v16i)(v != v))); }
/* m > 0 or NaN ? g : +0, as ReLU's backward rule (PyTorch's threshold_backward: zero only where
 * the output is <= 0). */
INLINE v8 pass8(v8 g, v8 m) { const v8 zero = {0}; return (v8)((v8i)g & ((v8i)(m > zero) | (v8i)(m != m))); }
INLINE v16 pass16(v16 g, v16 m) { const v16 zero = {0}; return (v16)((v16i)g & ((v16i)(m > zero) | (v16i)(m != m))); }

/* The three builds of every kernel: baseline x86-64 (SSE2), AVX2, and AVX-512 (F, DQ, BW, VL:
 * the set `RKAN_CPU_AVX512` reports). The AVX-512 build runs the kernels on 16 floats at a time
 * (8 for a last block of 8 channels); the others on 8. */
#define TARGET_AVX2 __attribute__((target("avx2")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

/* The variant the entry points run: an RKAN_ISA_* value, or VARIANT_AVX2_WIDE (the 16-float code
 * built for AVX2, `rkan_kernels_wide_on_avx2`). */
enum { VARIANT_AVX2_WIDE = 3 };
int rkan_kernels_variant(void);

/* The four builds of kernel `name` from name##_body(..., wide), and the entry point `entry` that
 * runs the one `rkan_kernels_variant` picks. */
#define RKAN_BUILDS(entry, name, params, ...)                                             \
    static void name##_sse2 params { name##_body(__VA_ARGS__, 0); }                       \
    TARGET_AVX2 static void name##_avx2 params { name##_body(__VA_ARGS__, 0); }           \
    TARGET_AVX2 static void name##_avx2w params { name##_body(__VA_ARGS__, 1); }          \
    TARGET_AVX512 static void name##_avx512 params { name##_body(__VA_ARGS__, 1); }       \
    void entry params {                                                                   \
        switch (rkan_kernels_variant()) {                                                 \
        case RKAN_ISA_AVX512: name##_avx512(__VA_ARGS__); break;                          \
        case VARIANT_AVX2_WIDE: name##_avx2w(__VA_ARGS__); break;                         \
        case RKAN_ISA_AVX2: name##_avx2(__VA_ARGS__); break;                              \
        default: name##_sse2(__VA_ARGS__);                                                \
        }                                                                                 \
    }


#endif
