#include "ln/channel_tx.h"

#include <algorithm>

#include "codec/tlv.h"

namespace hashlock::ln {

namespace {

chain::Witness both_sign(const ChannelTxParams& params) {
  return chain::Witness{chain::SpendPath::kMultisig,
                        {params.holder_key, params.counterparty_key},
                        std::nullopt,
                        std::nullopt};
}

}  // namespace

Bytes encode_tx_params(const ChannelTxParams& params) {
  codec::TlvWriter w;
  w.bytes32(0, params.funding_outpoint.txid)
      .u64(2, params.funding_outpoint.index)
      .amount(4, params.funding_value)
      .bytes32(6, params.holder_key)
      .bytes32(8, params.counterparty_key)
      .u64(10, params.holder_to_self_delay)
      .u64(12, params.counterparty_to_self_delay);
  return w.take();
}

util::Result<ChannelTxParams> decode_tx_params(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "channel transaction parameters"));
  ChannelTxParams params;
  auto u32_field = [&r](uint64_t type) -> util::Result<uint32_t> {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t value, r.u64(type));
    if (value > UINT32_MAX)
      return util::corruption("channel transaction parameter " + std::to_string(type) +
                              " does not fit 32 bits");
    return static_cast<uint32_t>(value);
  };
  HASHLOCK_ASSIGN_OR_RETURN(params.funding_outpoint.txid, r.bytes32<chain::Txid>(0));
  HASHLOCK_ASSIGN_OR_RETURN(params.funding_outpoint.index, u32_field(2));
  HASHLOCK_ASSIGN_OR_RETURN(params.funding_value, r.amount(4));
  HASHLOCK_ASSIGN_OR_RETURN(params.holder_key, r.bytes32<chain::PublicKey>(6));
  HASHLOCK_ASSIGN_OR_RETURN(params.counterparty_key, r.bytes32<chain::PublicKey>(8));
  HASHLOCK_ASSIGN_OR_RETURN(params.holder_to_self_delay, u32_field(10));
  HASHLOCK_ASSIGN_OR_RETURN(params.counterparty_to_self_delay, u32_field(12));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return params;
}

chain::PublicKey node_key(NodeId node) {
  codec::ByteWriter w;
  w.var_string("hashlock node key");
  w.u64(node.value());
  return chain::PublicKey(util::sha256(w.bytes()));
}

chain::TxOut funding_output(const chain::PublicKey& a, const chain::PublicKey& b,
                            AmountMsat value) {
  return chain::TxOut{value, chain::MultisigCondition{std::min(a, b), std::max(a, b)}};
}

util::Result<chain::Transaction> build_commitment_tx(const ChannelTxParams& params,
                                                     bool holder_is_us,
                                                     const CommitmentData& commitment) {
  if (commitment.number >= kCooperativeCloseSequence) {
    return util::invalid_argument("commitment number " + std::to_string(commitment.number) +
                                  " does not fit the funding input's sequence");
  }
  AmountMsat total;
  HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(commitment.to_holder));
  HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(commitment.to_counterparty));
  for (const CommitmentHtlc& htlc : commitment.htlcs) {
    HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(htlc.amount));
  }
  if (total != params.funding_value) {
    return util::invalid_argument("commitment " + std::to_string(commitment.number) + " pays " +
                                  total.to_string() + " of a funding output of " +
                                  params.funding_value.to_string());
  }
  const chain::PublicKey& holder = holder_is_us ? params.holder_key : params.counterparty_key;
  const chain::PublicKey& other = holder_is_us ? params.counterparty_key : params.holder_key;
  const uint32_t delay =
      holder_is_us ? params.holder_to_self_delay : params.counterparty_to_self_delay;

  chain::Transaction tx;
  tx.inputs.push_back(chain::TxIn{params.funding_outpoint, static_cast<uint32_t>(commitment.number),
                                  both_sign(params)});
  if (commitment.to_holder.value() > 0) {
    tx.outputs.push_back(
        chain::TxOut{commitment.to_holder,
                     chain::DelayedCondition{holder, delay, other, commitment.revocation_hash}});
  }
  if (commitment.to_counterparty.value() > 0) {
    tx.outputs.push_back(chain::TxOut{commitment.to_counterparty, chain::KeyCondition{other}});
  }
  std::vector<const CommitmentHtlc*> htlcs;
  for (const CommitmentHtlc& htlc : commitment.htlcs) htlcs.push_back(&htlc);
  std::sort(htlcs.begin(), htlcs.end(), [](const CommitmentHtlc* a, const CommitmentHtlc* b) {
    if (a->offered_by_holder != b->offered_by_holder) return a->offered_by_holder;
    return a->id < b->id;
  });
  for (const CommitmentHtlc* htlc : htlcs) {
    const chain::PublicKey& offerer = htlc->offered_by_holder ? holder : other;
    const chain::PublicKey& receiver = htlc->offered_by_holder ? other : holder;
    tx.outputs.push_back(chain::TxOut{
        htlc->amount, chain::HtlcCondition{htlc->payment_hash, htlc->cltv_expiry, receiver, offerer,
                                           other, commitment.revocation_hash}});
  }
  return tx;
}

uint64_t commitment_number_of(const chain::Transaction& commitment) {
  return commitment.inputs.empty() ? 0 : commitment.inputs.front().sequence;
}

util::Result<chain::Transaction> build_closing_tx(const ChannelTxParams& params,
                                                  AmountMsat to_holder, AmountMsat to_counterparty,
                                                  AmountMsat fee, bool fee_payer_is_holder) {
  AmountMsat& payer = fee_payer_is_holder ? to_holder : to_counterparty;
  auto paid = payer.checked_sub(fee);
  if (!paid.is_ok()) return paid.status().with_context("closing fee");
  payer = paid.value();
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat total, to_holder.checked_add(to_counterparty));
  HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(fee));
  if (total != params.funding_value) {
    return util::invalid_argument("closing transaction pays " + total.to_string() +
                                  " of a funding output of " + params.funding_value.to_string());
  }
  chain::Transaction tx;
  tx.inputs.push_back(
      chain::TxIn{params.funding_outpoint, kCooperativeCloseSequence, both_sign(params)});
  // Ordered by key, so both sides build the same transaction.
  std::vector<std::pair<chain::PublicKey, AmountMsat>> outputs{
      {params.holder_key, to_holder}, {params.counterparty_key, to_counterparty}};
  std::sort(outputs.begin(), outputs.end());
  for (const auto& [key, value] : outputs) {
    if (value.value() > 0) tx.outputs.push_back(chain::TxOut{value, chain::KeyCondition{key}});
  }
  if (tx.outputs.empty()) return util::invalid_argument("closing transaction pays nothing");
  return tx;
}

util::Result<chain::Transaction> build_sweep_tx(const chain::Transaction& parent, uint32_t index,
                                                chain::Witness witness, uint32_t sequence,
                                                uint32_t lock_time,
                                                const chain::PublicKey& destination,
                                                const chain::FeeEstimator& fees) {
  if (index >= parent.outputs.size()) {
    return util::invalid_argument("output " + std::to_string(index) + " of " +
                                  parent.txid().to_hex() + " does not exist");
  }
  const AmountMsat value = parent.outputs[index].value;
  chain::Transaction tx;
  tx.inputs.push_back(
      chain::TxIn{chain::OutPoint{parent.txid(), index}, sequence, std::move(witness)});
  tx.outputs.push_back(chain::TxOut{value, chain::KeyCondition{destination}});
  tx.lock_time = lock_time;
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, fees.fee_for_size(tx.encode().size()));
  tx.outputs[0].value = value.checked_sub(std::min(fee, value)).value();
  return tx;
}

}  // namespace hashlock::ln
