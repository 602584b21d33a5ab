/*
 * crc32c: CRC-32C, by the CPU's crc32 instruction or by slicing-by-8
 * tables (see crc32c.h).
 */
#include "core/crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define QG_CRC32C_HW 1
#endif

#define POLY 0x82F63B78u /* Castagnoli, reflected */

static uint32_t table[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool hw;

static void
init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? c >> 1 ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = table[t - 1][i] >> 8 ^ table[0][table[t - 1][i] & 0xff];
#ifdef QG_CRC32C_HW
    __builtin_cpu_init();
    hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t
sw(uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = table[0][(c ^ *p++) & 0xff] ^ c >> 8;
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        /* little-endian words (x86, arm64); a big-endian CPU takes the
         * byte loop below for everything */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        lo ^= c;
        c = table[7][lo & 0xff] ^ table[6][lo >> 8 & 0xff] ^ table[5][lo >> 16 & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][hi >> 8 & 0xff] ^
            table[1][hi >> 16 & 0xff] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
#else
        break;
#endif
    }
    while (n--)
        c = table[0][(c ^ *p++) & 0xff] ^ c >> 8;
    return c;
}

#ifdef QG_CRC32C_HW
__attribute__((target("sse4.2"))) static uint32_t
hw_crc(uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        n--;
    }
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t
qg_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&once, init);
    return ~sw(~crc, p, n);
}

uint32_t
qg_crc32c(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&once, init);
#ifdef QG_CRC32C_HW
    if (hw)
        return ~hw_crc(~crc, p, n);
#endif
    return ~sw(~crc, p, n);
}
