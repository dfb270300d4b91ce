// TLV streams: the field layout of every record and nested structure.
//
// A stream is a sequence of (BigSize type, BigSize length, value) with types
// strictly increasing. TlvWriter builds one; writing types out of order is a
// programmer error. TlvReader parses one, and then hands out fields by type.
// finish() enforces the evolution rule: a field nobody asked for is skipped
// when its type is odd ("it's ok to be odd") and rejected as Unsupported when
// its type is even, so an old build never silently drops data it must
// understand. Errors name `what` (the structure) and the field.
// Thread-safety: none. A reader owns a copy of its input; the views it hands
// out live as long as the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/wire.h"
#include "util/amount.h"
#include "util/hash.h"

namespace hashlock::codec {

class TlvWriter {
 public:
  TlvWriter& u64(uint64_t type, uint64_t value);  // as a BigSize
  TlvWriter& bytes(uint64_t type, ByteView value);
  TlvWriter& string(uint64_t type, std::string_view value) {
    return bytes(type, util::as_bytes(value));
  }
  TlvWriter& amount(uint64_t type, util::AmountMsat value) { return u64(type, value.value()); }
  template <typename Tag>
  TlvWriter& bytes32(uint64_t type, const util::Bytes32<Tag>& value) {
    return bytes(type, value.view());
  }
  TlvWriter& boolean(uint64_t type, bool value) { return u64(type, value ? 1 : 0); }

  const Bytes& encoded() const { return out_.bytes(); }
  Bytes take() { return out_.take(); }

 private:
  void header(uint64_t type, uint64_t length);

  ByteWriter out_;
  std::optional<uint64_t> last_type_;
};

class TlvReader {
 public:
  // Parses the whole of `input` as a TLV stream.
  static util::Result<TlvReader> parse(ByteView input, std::string_view what);

  bool has(uint64_t type) const { return find(type) != nullptr; }

  // Required fields: absence is Corruption naming the field.
  util::Result<uint64_t> u64(uint64_t type);
  util::Result<ByteView> bytes(uint64_t type);
  util::Result<std::string> string(uint64_t type);
  util::Result<util::AmountMsat> amount(uint64_t type);
  util::Result<bool> boolean(uint64_t type);
  template <typename T>
  util::Result<T> bytes32(uint64_t type) {
    HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, bytes(type));
    auto value = T::from_bytes(raw);
    if (!value.is_ok()) return field_error(type, value.status().message());
    return T(value.value());
  }

  // Optional fields: absence is nullopt; a malformed value is still an error.
  util::Result<std::optional<uint64_t>> optional_u64(uint64_t type);
  util::Result<std::optional<ByteView>> optional_bytes(uint64_t type);

  // Checks that every even field was read; odd unread fields are skipped.
  util::Status finish() const;

  const std::string& what() const { return what_; }

 private:
  struct Field {
    uint64_t type = 0;
    size_t offset = 0;
    size_t length = 0;
    bool consumed = false;
  };

  const Field* find(uint64_t type) const;
  Field* find(uint64_t type);
  util::Status field_error(uint64_t type, std::string_view problem) const;

  std::string what_;
  Bytes input_;
  std::vector<Field> fields_;
};

// A list of encoded items inside one field: a count, then each item as a
// length-prefixed byte string. Readers bound the count by `max_items`.
Bytes encode_list(const std::vector<Bytes>& items);
util::Result<std::vector<ByteView>> decode_list(ByteView input, size_t max_items,
                                                std::string_view what);

// encode_list of `items`, each encoded by `encode`.
template <typename Container, typename Encode>
Bytes encode_items(const Container& items, Encode encode) {
  std::vector<Bytes> encoded;
  encoded.reserve(items.size());
  for (const auto& item : items) encoded.push_back(encode(item));
  return encode_list(encoded);
}

// decode_list, then `decode` of each item; the first failure is returned.
template <typename T, typename Decode>
util::Result<std::vector<T>> decode_items(ByteView input, size_t max_items, std::string_view what,
                                          Decode decode) {
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> items, decode_list(input, max_items, what));
  std::vector<T> out;
  out.reserve(items.size());
  for (ByteView item : items) {
    HASHLOCK_ASSIGN_OR_RETURN(T value, decode(item));
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace hashlock::codec
