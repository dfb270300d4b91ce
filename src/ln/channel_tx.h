// Channel transactions: the funding output, commitment transactions, the
// cooperative close, and the spends a monitor makes of their outputs, all in
// the model of chain/transaction.h.
//
// Keys. Every node has one key (node_key), an identity and not
// cryptography. The funding output needs both channel keys. In the
// commitment held by H (the side that may broadcast it), with counterparty C:
//   to-local   DelayedCondition{H, delay C asked of H, revocation by C,
//              revocation hash = H's per-commitment point}
//   to-remote  KeyCondition{C}
//   HTLC       HtlcCondition{payment hash, expiry, claim key = the receiver,
//              timeout key = the offerer, revocation by C, same hash}
// H reveals the per-commitment secret when revoking, and from then on C can
// take every output of that commitment except its own to-remote at once.
// The commitment number rides in the funding input's sequence, so a monitor
// can tell which counterparty commitment confirmed. Commitments pay no fee
// in this model (fees are paid by the spends of their outputs); outputs of
// zero value are left out; after to-local and to-remote come the HTLCs the
// holder offered, then those it received, each by id.
// Thread-safety: value types and pure functions.
#pragma once

#include <optional>
#include <vector>

#include "chain/interfaces.h"
#include "chain/transaction.h"
#include "ln/monitor_update.h"

namespace hashlock::ln {

// The on-chain facts of a channel, from one side's point of view.
struct ChannelTxParams {
  chain::OutPoint funding_outpoint;
  AmountMsat funding_value;
  chain::PublicKey holder_key;
  chain::PublicKey counterparty_key;
  uint32_t holder_to_self_delay = 0;        // on our to-local, in our commitments
  uint32_t counterparty_to_self_delay = 0;  // on theirs, in theirs
  bool operator==(const ChannelTxParams&) const = default;
};

// What a new monitor needs to act on chain: the parameters, and both sides'
// per-commitment points for commitment 0.
struct MonitorChainSetup {
  ChannelTxParams params;
  util::Sha256Digest holder_first_point{};
  util::Sha256Digest counterparty_first_point{};
};

Bytes encode_tx_params(const ChannelTxParams& params);
util::Result<ChannelTxParams> decode_tx_params(ByteView encoded);

chain::PublicKey node_key(NodeId node);

// The funding output both sides expect: `value` to both keys.
chain::TxOut funding_output(const chain::PublicKey& a, const chain::PublicKey& b, AmountMsat value);

// A commitment: what it pays to whom, from its holder's point of view.
struct CommitmentData {
  uint64_t number = 0;
  AmountMsat to_holder;
  AmountMsat to_counterparty;
  std::vector<CommitmentHtlc> htlcs;  // offered_by_holder as seen by the holder
  util::Sha256Digest revocation_hash{};
  bool operator==(const CommitmentData&) const = default;
};

// The commitment transaction held by us (`holder_is_us`) or by the
// counterparty. Fails if the amounts do not add up to the funding value or
// the number does not fit the sequence field.
util::Result<chain::Transaction> build_commitment_tx(const ChannelTxParams& params,
                                                     bool holder_is_us,
                                                     const CommitmentData& commitment);

// The funding input's sequence in a cooperative close; commitments carry
// their number there, always below it.
inline constexpr uint32_t kCooperativeCloseSequence = UINT32_MAX;

// The commitment number a commitment transaction carries.
uint64_t commitment_number_of(const chain::Transaction& commitment);

// The cooperative close: each side's balance to its key, `fee` paid by
// `fee_payer_is_holder`'s side; zero outputs left out.
util::Result<chain::Transaction> build_closing_tx(const ChannelTxParams& params,
                                                  AmountMsat to_holder, AmountMsat to_counterparty,
                                                  AmountMsat fee, bool fee_payer_is_holder);

// Spends output `index` of `parent` through `witness` to `destination`,
// paying the fee `fees` asks for its size (at most the whole value).
util::Result<chain::Transaction> build_sweep_tx(const chain::Transaction& parent, uint32_t index,
                                                chain::Witness witness, uint32_t sequence,
                                                uint32_t lock_time,
                                                const chain::PublicKey& destination,
                                                const chain::FeeEstimator& fees);

}  // namespace hashlock::ln
