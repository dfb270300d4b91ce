// Peer messages: typed structs with versioned encodings.
//
// Each message encodes as a record (docs/storage.md) whose type is the
// message type, so a message from a newer peer with an unknown even field is
// refused, a bit flip is caught by the checksum, and a truncated message is
// Corruption. decode_message() never trusts its input: every failure is a
// Status that names the message and field. Thread-safety: value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "chain/transaction.h"
#include "ln/htlc.h"

namespace hashlock::ln {

struct ChannelLimits {
  uint32_t max_accepted_htlcs = 483;
  AmountMsat max_htlc_value_in_flight{UINT64_MAX};
  AmountMsat channel_reserve;
  AmountMsat htlc_minimum{1};
  bool operator==(const ChannelLimits&) const = default;
};

struct OpenChannel {
  ChannelId channel_id;
  AmountMsat capacity;
  AmountMsat push;                    // given to the acceptor at open
  ChannelLimits limits;               // what the opener accepts from the acceptor
  util::Sha256Digest first_point{};   // the opener's point for commitment 0
  util::Sha256Digest second_point{};  // and for commitment 1
  // The funding output the opener pays `capacity` into (absent: a channel
  // without a chain, as before the chain layer).
  std::optional<chain::OutPoint> funding_outpoint;
  uint32_t to_self_delay = 0;  // blocks the acceptor's to-local waits in its commitments
  bool operator==(const OpenChannel&) const = default;
};

struct AcceptChannel {
  ChannelId channel_id;
  ChannelLimits limits;  // what the acceptor accepts from the opener
  util::Sha256Digest first_point{};
  util::Sha256Digest second_point{};
  uint32_t to_self_delay = 0;  // blocks the opener's to-local waits in its commitments
  bool operator==(const AcceptChannel&) const = default;
};

struct UpdateAddHtlc {
  ChannelId channel_id;
  HtlcId htlc_id;
  AmountMsat amount;
  PaymentHash payment_hash;
  uint32_t cltv_expiry = 0;
  Bytes onion;  // the per-hop payload for the receiver of this HTLC
  // What a forwarder kept beyond its fee, with the receiver's agreement:
  // `amount` is that much less than the payload asks for.
  AmountMsat skimmed_fee;
  bool operator==(const UpdateAddHtlc&) const = default;
};

struct UpdateFulfillHtlc {
  ChannelId channel_id;
  HtlcId htlc_id;
  PaymentPreimage preimage;
  bool operator==(const UpdateFulfillHtlc&) const = default;
};

struct UpdateFailHtlc {
  ChannelId channel_id;
  HtlcId htlc_id;
  FailureReason reason;
  bool operator==(const UpdateFailHtlc&) const = default;
};

struct CommitmentSigned {
  ChannelId channel_id;
  uint64_t commitment_number = 0;
  util::Sha256Digest signature{};  // commits to the receiver's new commitment
  bool operator==(const CommitmentSigned&) const = default;
};

struct RevokeAndAck {
  ChannelId channel_id;
  uint64_t revoked_commitment_number = 0;
  util::Sha256Digest per_commitment_secret{};
  util::Sha256Digest next_point{};  // for commitment revoked + 2
  bool operator==(const RevokeAndAck&) const = default;
};

struct ChannelReestablish {
  ChannelId channel_id;
  uint64_t next_commitment_number = 0;  // the next commitment_signed it expects
  uint64_t revocations_received = 0;    // revoke_and_acks it has received
  bool operator==(const ChannelReestablish&) const = default;
};

// A fatal protocol error: the sender considers the channel failed.
struct ErrorMessage {
  ChannelId channel_id;
  std::string text;
  bool operator==(const ErrorMessage&) const = default;
};

// The sender saw the funding transaction at its minimum depth: the channel
// may carry HTLCs once both sides have said so.
struct ChannelReady {
  ChannelId channel_id;
  bool operator==(const ChannelReady&) const = default;
};

// The sender adds no more HTLCs; once both sides said so and no HTLC is
// left, the opener proposes the closing transaction.
struct Shutdown {
  ChannelId channel_id;
  bool operator==(const Shutdown&) const = default;
};

// The closing transaction paying `fee` (the opener pays it): the opener
// proposes, the acceptor answers with the same fee when it agrees.
struct ClosingSigned {
  ChannelId channel_id;
  AmountMsat fee;
  util::Sha256Digest signature{};  // commits to the closing transaction
  bool operator==(const ClosingSigned&) const = default;
};

using Message =
    std::variant<OpenChannel, AcceptChannel, UpdateAddHtlc, UpdateFulfillHtlc, UpdateFailHtlc,
                 CommitmentSigned, RevokeAndAck, ChannelReestablish, ErrorMessage, ChannelReady,
                 Shutdown, ClosingSigned>;

std::string message_name(const Message& message);
const ChannelId& message_channel(const Message& message);

Bytes encode_message(const Message& message);
util::Result<Message> decode_message(ByteView encoded);

}  // namespace hashlock::ln
