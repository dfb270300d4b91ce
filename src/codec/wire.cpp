#include "codec/wire.h"

namespace hashlock::codec {

void ByteWriter::u16(uint16_t v) {
  out_.push_back(static_cast<uint8_t>(v >> 8));
  out_.push_back(static_cast<uint8_t>(v));
}

void ByteWriter::u32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
}

void ByteWriter::u64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
}

void ByteWriter::bigsize(uint64_t v) {
  if (v < 0xfd) {
    u8(static_cast<uint8_t>(v));
  } else if (v <= 0xffff) {
    u8(0xfd);
    u16(static_cast<uint16_t>(v));
  } else if (v <= 0xffffffff) {
    u8(0xfe);
    u32(static_cast<uint32_t>(v));
  } else {
    u8(0xff);
    u64(v);
  }
}

void ByteWriter::var_bytes(ByteView bytes) {
  bigsize(bytes.size());
  raw(bytes);
}

size_t bigsize_length(uint64_t v) {
  if (v < 0xfd) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffff) return 5;
  return 9;
}

util::Status ByteReader::truncated(std::string_view what, size_t needed) const {
  return util::corruption("truncated " + std::string(what) + ": need " + std::to_string(needed) +
                          " bytes at offset " + std::to_string(position_) + ", " +
                          std::to_string(remaining()) + " left");
}

util::Result<uint8_t> ByteReader::u8(std::string_view what) {
  if (remaining() < 1) return truncated(what, 1);
  return input_[position_++];
}

util::Result<uint16_t> ByteReader::u16(std::string_view what) {
  if (remaining() < 2) return truncated(what, 2);
  const auto v = static_cast<uint16_t>((input_[position_] << 8) | input_[position_ + 1]);
  position_ += 2;
  return v;
}

util::Result<uint32_t> ByteReader::u32(std::string_view what) {
  if (remaining() < 4) return truncated(what, 4);
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | input_[position_ + i];
  position_ += 4;
  return v;
}

util::Result<uint64_t> ByteReader::u64(std::string_view what) {
  if (remaining() < 8) return truncated(what, 8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | input_[position_ + i];
  position_ += 8;
  return v;
}

util::Result<uint64_t> ByteReader::bigsize(std::string_view what) {
  const size_t start = position_;
  HASHLOCK_ASSIGN_OR_RETURN(const uint8_t first, u8(what));
  uint64_t v = first;
  uint64_t minimum = 0;
  if (first == 0xfd) {
    HASHLOCK_ASSIGN_OR_RETURN(v, u16(what));
    minimum = 0xfd;
  } else if (first == 0xfe) {
    HASHLOCK_ASSIGN_OR_RETURN(v, u32(what));
    minimum = 0x10000;
  } else if (first == 0xff) {
    HASHLOCK_ASSIGN_OR_RETURN(v, u64(what));
    minimum = 0x100000000ULL;
  }
  if (v < minimum) {
    return util::corruption("non-minimal varint for " + std::string(what) + " at offset " +
                            std::to_string(start));
  }
  return v;
}

util::Result<ByteView> ByteReader::raw(size_t length, std::string_view what) {
  if (remaining() < length) return truncated(what, length);
  ByteView out = input_.subspan(position_, length);
  position_ += length;
  return out;
}

util::Result<ByteView> ByteReader::var_bytes(std::string_view what) {
  HASHLOCK_ASSIGN_OR_RETURN(const uint64_t length, bigsize(what));
  if (length > remaining()) return truncated(what, static_cast<size_t>(length));
  return raw(static_cast<size_t>(length), what);
}

util::Result<std::string> ByteReader::var_string(std::string_view what) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView bytes, var_bytes(what));
  return std::string(util::as_chars(bytes));
}

}  // namespace hashlock::codec
