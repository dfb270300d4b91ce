#include "codec/record.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace hashlock::codec {
namespace {

constexpr RecordKind kTestRecord{
    .type = 7, .min_version = 1, .current_version = 2, .name = "test record"};

Bytes sample_record() {
  TlvWriter fields;
  fields.u64(0, 42).string(2, "channel").amount(4, util::AmountMsat(123'456)).u64(5, 9);
  return encode_record(kTestRecord, fields);
}

TEST(Record, RoundTripsFields) {
  auto opened = open_record(kTestRecord, sample_record());
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(opened->version, 2);
  EXPECT_EQ(*opened->fields.u64(0), 42u);
  EXPECT_EQ(*opened->fields.string(2), "channel");
  EXPECT_EQ(*opened->fields.amount(4), util::AmountMsat(123'456));
  EXPECT_TRUE(opened->fields.finish().is_ok());  // field 5 is odd: skipped
}

TEST(Record, EveryTruncationIsCorruption) {
  const Bytes full = sample_record();
  for (size_t length = 0; length < full.size(); ++length) {
    auto opened = open_record(kTestRecord, ByteView(full).subspan(0, length));
    ASSERT_FALSE(opened.is_ok()) << "length " << length;
    EXPECT_EQ(opened.status().code(), util::StatusCode::kCorruption) << "length " << length;
  }
}

TEST(Record, EveryBitFlipIsCorruption) {
  Bytes record = sample_record();
  for (size_t bit = 0; bit < record.size() * 8; ++bit) {
    record[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto opened = open_record(kTestRecord, record);
    ASSERT_FALSE(opened.is_ok()) << "bit " << bit;
    EXPECT_EQ(opened.status().code(), util::StatusCode::kCorruption) << "bit " << bit;
    record[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

TEST(Record, NewerVersionIsUnsupportedAndSaysWhich) {
  constexpr RecordKind kFuture{
      .type = 7, .min_version = 3, .current_version = 3, .name = "test record"};
  TlvWriter fields;
  fields.u64(0, 1);
  auto opened = open_record(kTestRecord, encode_record(kFuture, fields));
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), util::StatusCode::kUnsupported);
  EXPECT_NE(opened.status().message().find("version 3 is not supported"), std::string::npos);
}

TEST(Record, WrongTypeIsCorruption) {
  constexpr RecordKind kOther{.type = 8, .min_version = 1, .current_version = 2, .name = "other"};
  auto opened = open_record(kOther, sample_record());
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("expected record type 8, found 7"), std::string::npos);
}

TEST(Record, UnknownEvenFieldIsRejectedUnknownOddSkipped) {
  TlvWriter fields;
  fields.u64(0, 1).u64(6, 2);
  auto opened = open_record(kTestRecord, encode_record(kTestRecord, fields));
  ASSERT_TRUE(opened.is_ok());
  ASSERT_TRUE(opened->fields.u64(0).is_ok());
  util::Status finished = opened->fields.finish();
  EXPECT_EQ(finished.code(), util::StatusCode::kUnsupported);
  EXPECT_NE(finished.message().find("unknown required (even) field 6"), std::string::npos);
}

TEST(Record, MissingRequiredFieldNamesIt) {
  TlvWriter fields;
  fields.u64(0, 1);
  auto opened = open_record(kTestRecord, encode_record(kTestRecord, fields));
  ASSERT_TRUE(opened.is_ok());
  auto missing = opened->fields.string(2);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), "test record field 2: required field is missing");
}

TEST(Tlv, OutOfOrderFieldsAreCorruption) {
  ByteWriter raw;
  raw.bigsize(4);
  raw.var_bytes(util::as_bytes("a"));
  raw.bigsize(2);
  raw.var_bytes(util::as_bytes("b"));
  auto parsed = TlvReader::parse(raw.bytes(), "stream");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.status().message().find("out of order"), std::string::npos);
}

TEST(Tlv, NonMinimalVarintIsCorruption) {
  const Bytes raw = {0xfd, 0x00, 0x01, 0x00};  // type 1 encoded in three bytes
  auto parsed = TlvReader::parse(raw, "stream");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.status().message().find("non-minimal"), std::string::npos);
}

TEST(Tlv, ListIsBoundedByItsLimit) {
  const Bytes list = encode_list({Bytes{1}, Bytes{2}, Bytes{3}});
  EXPECT_EQ(decode_list(list, 3, "items")->size(), 3u);
  auto too_many = decode_list(list, 2, "items");
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_NE(too_many.status().message().find("exceeds the limit of 2"), std::string::npos);
}

RC_GTEST_PROP(RecordProperty, AnyFieldsRoundTrip,
              (const std::vector<uint64_t>& numbers, const std::string& text)) {
  TlvWriter fields;
  uint64_t type = 0;
  for (uint64_t n : numbers) {
    fields.u64(type, n);
    type += 2;
  }
  fields.string(type, text);
  auto opened = open_record(kTestRecord, encode_record(kTestRecord, fields));
  RC_ASSERT(opened.is_ok());
  for (size_t i = 0; i < numbers.size(); ++i) RC_ASSERT(*opened->fields.u64(2 * i) == numbers[i]);
  RC_ASSERT(*opened->fields.string(type) == text);
  RC_ASSERT(opened->fields.finish().is_ok());
}

}  // namespace
}  // namespace hashlock::codec
