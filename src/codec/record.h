// Records: the unit of everything hashlock persists.
//
// Layout (all integers big-endian):
//
//   u16 record_type | u16 version | TLV stream | u32 CRC-32C of all before it
//
// encode_record() appends the header and checksum to a TLV stream.
// open_record() checks, in this order, that the record is long enough, that
// its checksum matches (Corruption otherwise: a torn write or a bit flip),
// that it is of the expected type (Corruption), and that this build reads its
// version (Unsupported); then it parses the TLV stream. The caller reads
// fields and calls finish() to reject unknown even fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/tlv.h"

namespace hashlock::codec {

struct RecordKind {
  uint16_t type = 0;
  uint16_t min_version = 1;      // oldest version this build reads
  uint16_t current_version = 1;  // the version this build writes
  const char* name = "";
};

inline constexpr size_t kRecordOverheadBytes = 2 + 2 + 4;

Bytes encode_record(const RecordKind& kind, const TlvWriter& fields);

struct OpenedRecord {
  uint16_t version = 0;
  TlvReader fields;
};

util::Result<OpenedRecord> open_record(const RecordKind& kind, ByteView encoded);

// Reads just the type of an encoded record after checking its checksum.
util::Result<uint16_t> peek_record_type(ByteView encoded);

}  // namespace hashlock::codec
