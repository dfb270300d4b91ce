// Fuzzes the channel manager's record decoders (ln/manager_store.h): any
// byte string must decode to a value or a Corruption / Unsupported error,
// never crash, hang or read out of bounds; a value that decodes must encode
// to a record that decodes to the same encoding again.
#include <cstddef>
#include <cstdint>

#include "ln/manager_store.h"
#include "util/check.h"

using namespace hashlock;

namespace {

void check_error_kind(const util::Status& status) {
  HASHLOCK_CHECK(status.code() == util::StatusCode::kCorruption ||
                     status.code() == util::StatusCode::kUnsupported,
                 "decoder errors are Corruption or Unsupported");
}

// decode, and if it worked, encode -> decode -> encode is stable.
template <typename Decoded, typename Decode, typename Encode>
void check(const util::ByteView input, Decode decode, Encode encode) {
  util::Result<Decoded> decoded = decode(input);
  if (!decoded.is_ok()) {
    check_error_kind(decoded.status());
    return;
  }
  const util::Bytes once = encode(*decoded);
  util::Result<Decoded> again = decode(once);
  HASHLOCK_CHECK(again.is_ok(), "a re-encoded manager record decodes");
  HASHLOCK_CHECK(encode(*again) == once, "a manager record re-encodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const util::ByteView input(data, size);
  check<ln::ManagerNode>(input, ln::decode_manager_node, ln::encode_manager_node);
  // A core alone (no items): one that names items fails to decode, which is fine.
  check<ln::ManagerChannel>(
      input, [](util::ByteView bytes) { return ln::decode_manager_channel(bytes); },
      [](const ln::ManagerChannel& c) { return ln::encode_manager_channel(c.channel, c.in_flight); });
  check<std::pair<util::PaymentId, ln::OutboundPayment>>(
      input, ln::decode_payment_record,
      [](const auto& p) { return ln::encode_payment_record(p.first, p.second); });
  check<std::pair<util::PaymentHash, ln::ClaimablePayment>>(
      input, ln::decode_claimable_record,
      [](const auto& p) { return ln::encode_claimable_record(p.first, p.second); });
  check<std::pair<ln::ForwardKey, ln::ForwardAck>>(
      input, ln::decode_forward_ack_record,
      [](const auto& p) { return ln::encode_forward_ack_record(p.first, p.second); });
  check<ln::QueuedEvent>(input, ln::decode_event_record, ln::encode_event_record);
  check<util::Bytes>(input, ln::decode_channel_item,
                     [](const util::Bytes& item) { return ln::encode_channel_item(item); });
  return 0;
}
