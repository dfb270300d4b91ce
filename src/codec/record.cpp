#include "codec/record.h"

#include "util/crc32c.h"

namespace hashlock::codec {
namespace {

util::Status check_frame(ByteView encoded, std::string_view what) {
  if (encoded.size() < kRecordOverheadBytes) {
    return util::corruption(std::string(what) + ": record truncated to " +
                            std::to_string(encoded.size()) + " bytes");
  }
  const size_t body = encoded.size() - 4;
  ByteReader trailer(encoded.subspan(body));
  const uint32_t stored = trailer.u32("checksum").value();
  const uint32_t actual = util::crc32c(encoded.subspan(0, body));
  if (stored != actual) {
    return util::corruption(std::string(what) + ": record checksum mismatch (stored " +
                            std::to_string(stored) + ", computed " + std::to_string(actual) + ")");
  }
  return util::Status::ok();
}

}  // namespace

Bytes encode_record(const RecordKind& kind, const TlvWriter& fields) {
  ByteWriter out;
  out.u16(kind.type);
  out.u16(kind.current_version);
  out.raw(fields.encoded());
  out.u32(util::crc32c(out.bytes()));
  return out.take();
}

util::Result<OpenedRecord> open_record(const RecordKind& kind, ByteView encoded) {
  HASHLOCK_RETURN_IF_ERROR(check_frame(encoded, kind.name));
  ByteReader header(encoded);
  const uint16_t type = header.u16("record type").value();
  const uint16_t version = header.u16("record version").value();
  if (type != kind.type) {
    return util::corruption(std::string(kind.name) + ": expected record type " +
                            std::to_string(kind.type) + ", found " + std::to_string(type));
  }
  if (version < kind.min_version || version > kind.current_version) {
    return util::unsupported(std::string(kind.name) + ": record version " +
                             std::to_string(version) + " is not supported (this build reads " +
                             std::to_string(kind.min_version) + ".." +
                             std::to_string(kind.current_version) + ")");
  }
  const ByteView body = encoded.subspan(4, encoded.size() - kRecordOverheadBytes);
  HASHLOCK_ASSIGN_OR_RETURN(TlvReader fields, TlvReader::parse(body, kind.name));
  return OpenedRecord{version, std::move(fields)};
}

util::Result<uint16_t> peek_record_type(ByteView encoded) {
  HASHLOCK_RETURN_IF_ERROR(check_frame(encoded, "record"));
  ByteReader header(encoded);
  return header.u16("record type").value();
}

}  // namespace hashlock::codec
