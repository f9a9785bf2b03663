#include "rkan_kernels.h"
#include "vec.h"
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPUID and XGETBV, read once: which x86-64 extensions the CPU has AND the OS saves the register
 * state of (XCR0: bits 1-2 XMM/YMM, bits 5-7 opmask/ZMM). An AVX-512 CPU under an OS (or a VM)
 * that does not enable ZMM state reports no AVX-512 here, like OpenBLAS's own checks. */
unsigned rkan_cpu_features(void) {
    static int done = 0;
    static unsigned features = 0;
    if (done) return features;
    unsigned a, b, c, d, f = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        if (d & (1u << 26)) f |= RKAN_CPU_SSE2;
        if (c & (1u << 0)) f |= RKAN_CPU_SSE3;
        if (c & (1u << 9)) f |= RKAN_CPU_SSSE3;
        if (c & (1u << 19)) f |= RKAN_CPU_SSE41;
        if (c & (1u << 20)) f |= RKAN_CPU_SSE42;
        unsigned long long xcr0 = 0;
        if (c & (1u << 27)) { /* OSXSAVE: XGETBV is allowed */
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            xcr0 = ((unsigned long long)hi << 32) | lo;
        }
        int ymm = (xcr0 & 0x6u) == 0x6u, zmm = ymm && (xcr0 & 0xe0u) == 0xe0u;
        if (ymm) {
            if (c & (1u << 28)) f |= RKAN_CPU_AVX;
            if (c & (1u << 12)) f |= RKAN_CPU_FMA;
        }
        unsigned a7, b7, c7, d7;
        if (__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) {
            if (ymm && (b7 & (1u << 5))) f |= RKAN_CPU_AVX2;
            if (zmm) {
                /* F, DQ, CD, BW, VL: OpenBLAS's SkylakeX kernels need all five. */
                unsigned skx = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
                if ((b7 & skx) == skx) f |= RKAN_CPU_AVX512;
                unsigned a71, b71, c71, d71;
                if (__get_cpuid_count(7, 1, &a71, &b71, &c71, &d71) && (a71 & (1u << 5))) f |= RKAN_CPU_AVX512BF16;
            }
        }
    }
    unsigned v0, v1, v2, v3;
    if (__get_cpuid(0, &v0, &v1, &v2, &v3)) {
        if (v1 == 0x68747541u && v3 == 0x69746e65u && v2 == 0x444d4163u) f |= RKAN_CPU_AMD;     /* AuthenticAMD */
        if (v1 == 0x756e6547u && v3 == 0x49656e69u && v2 == 0x6c65746eu) f |= RKAN_CPU_INTEL;   /* GenuineIntel */
    }
    features = f;
    done = 1;
    return f;
}

/* The kernels' build: the widest the CPU and OS run, capped once by RKAN_KERNELS (read on first
 * use; a value other than sse2, avx2 or avx512 stops the process with a message, since a typo
 * would otherwise compare a build with itself), then by `rkan_kernels_limit_isa`. */
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static int isa_supported = RKAN_ISA_SSE2, isa_env = RKAN_ISA_AVX512, isa_limit = RKAN_ISA_AVX512, wide_avx2 = 0;

static void isa_init(void) {
    unsigned f = rkan_cpu_features();
    isa_supported = (f & RKAN_CPU_AVX512) ? RKAN_ISA_AVX512 : (f & RKAN_CPU_AVX2) ? RKAN_ISA_AVX2 : RKAN_ISA_SSE2;
    const char *e = getenv("RKAN_KERNELS");
    if (e && *e) {
        if (strcmp(e, "sse2") == 0) isa_env = RKAN_ISA_SSE2;
        else if (strcmp(e, "avx2") == 0) isa_env = RKAN_ISA_AVX2;
        else if (strcmp(e, "avx512") == 0) isa_env = RKAN_ISA_AVX512;
        else {
            fprintf(stderr, "error: the environment variable RKAN_KERNELS is \"%s\"; it caps the build of the "
                    "engine's C kernels and must be sse2, avx2 or avx512 (unset it for the widest build this "
                    "CPU runs)\n", e);
            exit(2);
        }
    }
}

int rkan_kernels_isa_supported(void) {
    pthread_once(&isa_once, isa_init);
    return isa_supported;
}

int rkan_kernels_isa(void) {
    pthread_once(&isa_once, isa_init);
    int isa = isa_supported < isa_env ? isa_supported : isa_env;
    return isa < isa_limit ? isa : isa_limit;
}

int rkan_kernels_variant(void) {
    int isa = rkan_kernels_isa();
    return isa == RKAN_ISA_AVX2 && wide_avx2 ? VARIANT_AVX2_WIDE : isa;
}

void rkan_kernels_wide_on_avx2(int on) { wide_avx2 = on != 0; }

void rkan_kernels_limit_isa(int isa) {
    pthread_once(&isa_once, isa_init);
    isa_limit = isa < RKAN_ISA_SSE2 ? RKAN_ISA_SSE2 : isa > RKAN_ISA_AVX512 ? RKAN_ISA_AVX512 : isa;
}
