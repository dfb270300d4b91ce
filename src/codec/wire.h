// Byte-level encoding primitives shared by every persisted and wire format.
//
// ByteWriter appends big-endian integers, BigSize varints (as in BOLT 1: the
// shortest form is the only valid one) and length-prefixed byte strings.
// ByteReader reads them back and reports truncation or a non-minimal varint
// as Corruption, naming `what` was being read. Thread-safety: none; a reader
// borrows its input, which must outlive it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace hashlock::codec {

using util::Bytes;
using util::ByteView;

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void bigsize(uint64_t v);
  void raw(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  // A BigSize length, then the bytes.
  void var_bytes(ByteView bytes);
  void var_string(std::string_view text) { var_bytes(util::as_bytes(text)); }

  const Bytes& bytes() const { return out_; }
  Bytes take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView input) : input_(input) {}

  util::Result<uint8_t> u8(std::string_view what);
  util::Result<uint16_t> u16(std::string_view what);
  util::Result<uint32_t> u32(std::string_view what);
  util::Result<uint64_t> u64(std::string_view what);
  util::Result<uint64_t> bigsize(std::string_view what);
  util::Result<ByteView> raw(size_t length, std::string_view what);
  util::Result<ByteView> var_bytes(std::string_view what);
  util::Result<std::string> var_string(std::string_view what);

  size_t remaining() const { return input_.size() - position_; }
  size_t position() const { return position_; }
  bool at_end() const { return remaining() == 0; }

 private:
  util::Status truncated(std::string_view what, size_t needed) const;

  ByteView input_;
  size_t position_ = 0;
};

size_t bigsize_length(uint64_t v);

}  // namespace hashlock::codec
