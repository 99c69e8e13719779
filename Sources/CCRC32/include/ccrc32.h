// CRC-32 (IEEE 802.3, reflected) folded with carry-less multiplication, for
// NICCore's Ethernet FCS on long frames. Swift cannot reach PCLMULQDQ, so
// this one routine is C; NICCore's table-driven code does everything else
// and is the reference the folding is tested against.
#ifndef NICSIM_CCRC32_H
#define NICSIM_CCRC32_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has PCLMULQDQ and SSE4.1 (checked once).
int nicsim_crc32_folding_available(void);

/// Continues the raw (uninverted) reflected CRC `crc` over `length` bytes
/// at `bytes`. `length` must be at least 64 and a multiple of 16, and
/// `nicsim_crc32_folding_available()` must have returned 1.
uint32_t nicsim_crc32_fold(uint32_t crc, const uint8_t *bytes, size_t length);

#endif
