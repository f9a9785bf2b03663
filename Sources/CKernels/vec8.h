/* Shared by the CKernels sources (private to the target): 8-float vectors and their helpers.
 * Everything is always inlined, so no vector crosses a call boundary and the ABI note (-Wpsabi)
 * about AVX vectors in the SSE2 builds does not apply. No fused multiply-adds: every build
 * must round every operation the same way. */
#ifndef RKAN_VEC8_H
#define RKAN_VEC8_H

#pragma clang diagnostic ignored "-Wpsabi"
#pragma clang fp contract(off)
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

#define INLINE static inline __attribute__((always_inline))

INLINE v8 ld(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
INLINE void st(float *p, v8 v) { memcpy(p, &v, sizeof v); }
/* v > 0 or NaN ? v : +0 (-0 gives +0), as ReLU's forward: NaN passes through, as in PyTorch, so
 * the divergence checks see a NaN that arises upstream of a ReLU. */
INLINE v8 relu8(v8 v) { const v8 zero = {0}; return (v8)((v8i)v & ((v8i)(v > zero) | (v8i)(v != v))); }
/* m > 0 or NaN ? g : +0, as ReLU's backward rule (PyTorch's threshold_backward: zero only where
 * the output is <= 0). */
INLINE v8 pass8(v8 g, v8 m) { const v8 zero = {0}; return (v8)((v8i)g & ((v8i)(m > zero) | (v8i)(m != m))); }

#endif
