#include "codec/tlv.h"

#include <algorithm>

#include "util/check.h"

namespace hashlock::codec {

void TlvWriter::header(uint64_t type, uint64_t length) {
  HASHLOCK_CHECK(!last_type_ || type > *last_type_,
                 "TLV fields must be written in increasing type order");
  last_type_ = type;
  out_.bigsize(type);
  out_.bigsize(length);
}

TlvWriter& TlvWriter::u64(uint64_t type, uint64_t value) {
  header(type, bigsize_length(value));
  out_.bigsize(value);
  return *this;
}

TlvWriter& TlvWriter::bytes(uint64_t type, ByteView value) {
  header(type, value.size());
  out_.raw(value);
  return *this;
}

util::Result<TlvReader> TlvReader::parse(ByteView input, std::string_view what) {
  TlvReader reader;
  reader.what_ = std::string(what);
  reader.input_.assign(input.begin(), input.end());
  // Every field takes at least two bytes; most records have a handful.
  reader.fields_.reserve(std::min<size_t>(input.size() / 2, 16));
  ByteReader in(reader.input_);
  std::optional<uint64_t> last_type;
  while (!in.at_end()) {
    auto type = in.bigsize("field type");
    if (!type.is_ok()) return type.status().with_context(reader.what_);
    if (last_type && *type <= *last_type) {
      return util::corruption(reader.what_ + ": field " + std::to_string(*type) +
                              " out of order after field " + std::to_string(*last_type));
    }
    last_type = *type;
    auto value = in.var_bytes("value");
    if (!value.is_ok()) {
      return value.status().with_context(reader.what_ + " field " + std::to_string(*type));
    }
    const auto offset = static_cast<size_t>(value->data() - reader.input_.data());
    reader.fields_.push_back(Field{*type, offset, value->size(), false});
  }
  return reader;
}

const TlvReader::Field* TlvReader::find(uint64_t type) const {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), type,
                             [](const Field& f, uint64_t t) { return f.type < t; });
  return (it != fields_.end() && it->type == type) ? &*it : nullptr;
}

TlvReader::Field* TlvReader::find(uint64_t type) {
  return const_cast<Field*>(static_cast<const TlvReader*>(this)->find(type));
}

util::Status TlvReader::field_error(uint64_t type, std::string_view problem) const {
  return util::corruption(what_ + " field " + std::to_string(type) + ": " + std::string(problem));
}

util::Result<std::optional<ByteView>> TlvReader::optional_bytes(uint64_t type) {
  Field* field = find(type);
  if (field == nullptr) return std::optional<ByteView>();
  field->consumed = true;
  return std::optional<ByteView>(ByteView(input_).subspan(field->offset, field->length));
}

util::Result<std::optional<uint64_t>> TlvReader::optional_u64(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> raw, optional_bytes(type));
  if (!raw) return std::optional<uint64_t>();
  ByteReader in(*raw);
  auto value = in.bigsize("integer");
  if (!value.is_ok()) return field_error(type, value.status().message());
  if (!in.at_end()) return field_error(type, "trailing bytes after integer");
  return std::optional<uint64_t>(*value);
}

util::Result<ByteView> TlvReader::bytes(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> raw, optional_bytes(type));
  if (!raw) return field_error(type, "required field is missing");
  return *raw;
}

util::Result<uint64_t> TlvReader::u64(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> value, optional_u64(type));
  if (!value) return field_error(type, "required field is missing");
  return *value;
}

util::Result<std::string> TlvReader::string(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, bytes(type));
  return std::string(util::as_chars(raw));
}

util::Result<util::AmountMsat> TlvReader::amount(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t msat, u64(type));
  return util::AmountMsat(msat);
}

util::Result<bool> TlvReader::boolean(uint64_t type) {
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t value, u64(type));
  if (value > 1) return field_error(type, "boolean is " + std::to_string(value));
  return value == 1;
}

util::Status TlvReader::finish() const {
  for (const Field& field : fields_) {
    if (!field.consumed && field.type % 2 == 0) {
      return util::unsupported(what_ + ": unknown required (even) field " +
                               std::to_string(field.type));
    }
  }
  return util::Status::ok();
}

Bytes encode_list(const std::vector<Bytes>& items) {
  ByteWriter out;
  out.bigsize(items.size());
  for (const Bytes& item : items) out.var_bytes(item);
  return out.take();
}

util::Result<std::vector<ByteView>> decode_list(ByteView input, size_t max_items,
                                                std::string_view what) {
  ByteReader in(input);
  auto count = in.bigsize("list length");
  if (!count.is_ok()) return count.status().with_context(what);
  if (*count > max_items) {
    return util::corruption(std::string(what) + ": list of " + std::to_string(*count) +
                            " items exceeds the limit of " + std::to_string(max_items));
  }
  std::vector<ByteView> items;
  items.reserve(static_cast<size_t>(*count));
  for (uint64_t i = 0; i < *count; ++i) {
    auto item = in.var_bytes("list item");
    if (!item.is_ok())
      return item.status().with_context(std::string(what) + " item " + std::to_string(i));
    items.push_back(*item);
  }
  if (!in.at_end()) return util::corruption(std::string(what) + ": trailing bytes after list");
  return items;
}

}  // namespace hashlock::codec
