// CRC-32C (Castagnoli), the checksum of every stored value and record.
//
// Uses the SSE4.2 instruction when the CPU has it and a table otherwise; both
// give the same result. Thread-safe: pure functions.
#pragma once

#include <cstdint>

#include "util/bytes.h"

namespace hashlock::util {

// Extends `crc` (0 for a fresh checksum) over `data`.
uint32_t crc32c_extend(uint32_t crc, ByteView data);
inline uint32_t crc32c(ByteView data) {
  return crc32c_extend(0, data);
}

}  // namespace hashlock::util
