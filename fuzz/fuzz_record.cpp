// Fuzzes the record decoder: any byte string must decode to a value or a
// Corruption / Unsupported error, never crash, hang or read out of bounds.
// When a record opens, its fields are read as every kind the codec offers, and
// a re-encoding of the integer fields must open again with the same values.
#include <cstddef>
#include <cstdint>

#include "codec/record.h"
#include "util/check.h"

using namespace hashlock;

namespace {

constexpr codec::RecordKind kFuzzRecord{
    .type = 1, .min_version = 1, .current_version = 3, .name = "fuzz record"};

void check_error_kind(const util::Status& status) {
  HASHLOCK_CHECK(status.code() == util::StatusCode::kCorruption ||
                     status.code() == util::StatusCode::kUnsupported,
                 "decoder errors are Corruption or Unsupported");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const util::ByteView input(data, size);
  auto opened = codec::open_record(kFuzzRecord, input);
  if (!opened.is_ok()) {
    check_error_kind(opened.status());
    return 0;
  }
  codec::TlvWriter rewritten;
  for (uint64_t type = 0; type < 16; ++type) {
    auto number = opened->fields.optional_u64(type);
    if (!number.is_ok()) {
      check_error_kind(number.status());
      continue;
    }
    if (*number) rewritten.u64(type, **number);
    auto list = codec::decode_list(opened->fields.optional_bytes(type)->value_or(util::ByteView()),
                                   64, "list");
    if (!list.is_ok()) check_error_kind(list.status());
  }
  const util::Status finished = opened->fields.finish();
  if (!finished.is_ok()) check_error_kind(finished);

  auto reopened = codec::open_record(kFuzzRecord, codec::encode_record(kFuzzRecord, rewritten));
  HASHLOCK_CHECK(reopened.is_ok(), "a re-encoded record opens");
  return 0;
}
