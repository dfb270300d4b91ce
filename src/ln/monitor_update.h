// ChannelMonitorUpdate: what a channel tells its monitor, in order.
//
// An update is {channel_id, update_id, steps}; update ids are strictly
// increasing per channel and are applied strictly in order. Each step is one
// fact the monitor needs to resolve HTLCs safely (ln-resolution.md, "Monitor
// updates"). Updates are persisted before any message that depends on them
// is sent. Thread-safety: value types.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "ln/commitment_secrets.h"
#include "ln/htlc.h"

namespace hashlock::ln {

// An HTLC as it stands in a commitment.
struct CommitmentHtlc {
  bool offered_by_holder = false;  // from the point of view of the commitment's holder
  HtlcId id;
  AmountMsat amount;
  PaymentHash payment_hash;
  uint32_t cltv_expiry = 0;
  std::optional<HtlcSource> source;  // for HTLCs we offered
  bool operator==(const CommitmentHtlc&) const = default;
};

struct ClaimedHtlc {
  HtlcId htlc_id;
  PaymentPreimage preimage;
  AmountMsat skimmed_fee;
  bool operator==(const ClaimedHtlc&) const = default;
};

struct FailedHtlc {
  HtlcId htlc_id;
  FailureReason reason;
  bool operator==(const FailedHtlc&) const = default;
};

struct LatestHolderCommitment {
  uint64_t commitment_number = 0;
  std::vector<CommitmentHtlc> htlcs;
  std::vector<ClaimedHtlc> claimed_htlcs;  // our outbound HTLCs the counterparty fulfilled
  std::vector<FailedHtlc> failed_htlcs;    // our outbound HTLCs the counterparty failed
  AmountMsat to_holder;
  AmountMsat to_counterparty;
  // Our per-commitment point for this commitment: the revocation hash of its
  // outputs. Absent in updates written before the chain layer.
  std::optional<util::Sha256Digest> per_commitment_point;
  bool operator==(const LatestHolderCommitment&) const = default;
};

// What a commitment pays on chain beyond its HTLCs: the balances from its
// holder's point of view and the holder's per-commitment point.
struct CommitmentBalances {
  AmountMsat to_holder;
  AmountMsat to_counterparty;
  util::Sha256Digest per_commitment_point{};
  bool operator==(const CommitmentBalances&) const = default;
};

struct LatestCounterpartyCommitment {
  uint64_t commitment_number = 0;
  std::vector<CommitmentHtlc> htlcs;  // offered_by_holder: offered by the counterparty
  // Absent in updates written before the chain layer.
  std::optional<CommitmentBalances> balances;
  bool operator==(const LatestCounterpartyCommitment&) const = default;
};

struct PaymentPreimageStep {
  PaymentPreimage preimage;
  bool operator==(const PaymentPreimageStep&) const = default;
};

struct CommitmentSecretStep {
  uint64_t commitment_number = 0;
  Secret secret{};
  bool operator==(const CommitmentSecretStep&) const = default;
};

struct ChannelForceClosed {
  bool should_broadcast = true;
  std::string reason;
  bool operator==(const ChannelForceClosed&) const = default;
};

// Legacy mode only: the manager has durably handled the claim of `htlc_id`.
struct ReleasePaymentComplete {
  HtlcId htlc_id;
  bool operator==(const ReleasePaymentComplete&) const = default;
};

using MonitorStep =
    std::variant<LatestHolderCommitment, LatestCounterpartyCommitment, PaymentPreimageStep,
                 CommitmentSecretStep, ChannelForceClosed, ReleasePaymentComplete>;

struct ChannelMonitorUpdate {
  ChannelId channel_id;
  uint64_t update_id = 0;
  std::vector<MonitorStep> steps;
  bool operator==(const ChannelMonitorUpdate&) const = default;
};

inline constexpr size_t kMaxStepsPerUpdate = 4096;
inline constexpr size_t kMaxHtlcsPerCommitment = 2 * 483;

// The HTLC lists of a monitor's latest holder and counterparty commitments
// just before an update is applied (null: none given). The update's
// commitment steps may then be written against them: the HTLCs added and
// the ones removed instead of the whole list, which is O(HTLCs changed)
// bytes instead of O(HTLCs in flight). A later step of the same kind in the
// update is written against the earlier one. An update written with a base
// reads back only with the same base.
struct CommitmentBase {
  const std::vector<CommitmentHtlc>* holder = nullptr;
  const std::vector<CommitmentHtlc>* counterparty = nullptr;
};
Bytes encode_update(const ChannelMonitorUpdate& update, const CommitmentBase& base = {});
util::Result<ChannelMonitorUpdate> decode_update(ByteView encoded, const CommitmentBase& base = {});

Bytes encode_commitment_htlc(const CommitmentHtlc& htlc);
util::Result<CommitmentHtlc> decode_commitment_htlc(ByteView encoded);

}  // namespace hashlock::ln
