// CRC-32 by folding: the message is reduced 16 bytes at a time with
// carry-less multiplications by x^k mod P for the reflected polynomial
// 0x1DB710641, then 128 -> 64 -> 32 bits, and a Barrett reduction gives the
// remainder (the method of Gopal et al., "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction", Intel, 2009). The constants are
// the powers of x that method needs for this polynomial.
#include "ccrc32.h"

#if defined(__x86_64__)
#include <immintrin.h>

int nicsim_crc32_folding_available(void) {
    static int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    return available;
}

__attribute__((target("pclmul,sse4.1")))
static inline __m128i fold16(__m128i x, __m128i k, __m128i next) {
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

__attribute__((target("pclmul,sse4.1")))
uint32_t nicsim_crc32_fold(uint32_t crc, const uint8_t *p, size_t length) {
    // x^(4*128+64) and x^(4*128) mod P (four blocks apart), x^(128+64) and
    // x^128 mod P (one block apart), x^64 mod P, and P with its Barrett
    // quotient, all bit-reflected.
    const __m128i fourBlocks = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
    const __m128i oneBlock = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    const __m128i x64 = _mm_set_epi64x(0, 0x163cd6124);
    const __m128i barrett = _mm_set_epi64x(0x1f7011641, 0x1db710641);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x1 = _mm_loadu_si128((const __m128i *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    length -= 64;
    while (length >= 64) {
        x1 = fold16(x1, fourBlocks, _mm_loadu_si128((const __m128i *)p));
        x2 = fold16(x2, fourBlocks, _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = fold16(x3, fourBlocks, _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = fold16(x4, fourBlocks, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        length -= 64;
    }
    x1 = fold16(x1, oneBlock, x2);
    x1 = fold16(x1, oneBlock, x3);
    x1 = fold16(x1, oneBlock, x4);
    while (length >= 16) {
        x1 = fold16(x1, oneBlock, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        length -= 16;
    }
    // 128 -> 64 bits, then 64 -> 32.
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, oneBlock, 0x10));
    __m128i high = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), x64, 0x00), high);
    // Barrett reduction to the 32-bit remainder.
    __m128i t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), barrett, 0x10), low32);
    t = _mm_clmulepi64_si128(t, barrett, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(t, x1), 1);
}

#else

int nicsim_crc32_folding_available(void) { return 0; }
uint32_t nicsim_crc32_fold(uint32_t crc, const uint8_t *p, size_t length) { (void)p; (void)length; return crc; }

#endif
