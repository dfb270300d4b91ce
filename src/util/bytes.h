// Byte buffers and hex encoding.
//
// Bytes owns its storage; ByteView borrows and must not outlive what it
// points into. Hex parsing reports the position of the first bad character.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace hashlock::util {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string to_hex(ByteView bytes);
// Accepts upper and lower case; an odd length or a non-hex character is an
// InvalidArgument that names the position.
Result<Bytes> from_hex(std::string_view hex);

}  // namespace hashlock::util
