/*
 * crc32c: the Castagnoli CRC (iSCSI, ext4, SSE 4.2's crc32 instruction),
 * which the job store seals its records and result pages with. Pure; any
 * thread.
 */
#ifndef QG_CRC32C_H
#define QG_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of p[0..n) continued from crc (0 to start): crc32c(b, crc32c(a,
 * 0)) is the CRC of a followed by b. Uses the CPU's instruction where it
 * has one (x86-64 with SSE 4.2), else tables; both give the same value. */
uint32_t qg_crc32c(uint32_t crc, const void *p, size_t n);

/* The table version alone, for tests that compare the two. */
uint32_t qg_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
