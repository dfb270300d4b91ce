#include "chain/spend.h"

#include <algorithm>
#include <set>

namespace hashlock::chain {

namespace {

bool signed_by(const Witness& witness, const PublicKey& key) {
  return std::find(witness.signers.begin(), witness.signers.end(), key) != witness.signers.end();
}

util::Status wrong_path(const Witness& witness, std::string_view condition) {
  return util::invalid_argument("spend path " + spend_path_name(witness.path) + " does not fit a " +
                                std::string(condition) + " output");
}

util::Status missing_signature(std::string_view whose) {
  return util::invalid_argument("the " + std::string(whose) + " key did not sign");
}

util::Status check_revocation(const Witness& witness, const PublicKey& revocation_key,
                              const util::Sha256Digest& revocation_hash) {
  if (!signed_by(witness, revocation_key)) return missing_signature("revocation");
  if (!witness.revocation_secret) return util::invalid_argument("revocation spend without secret");
  if (util::sha256(ByteView(witness.revocation_secret->data(),
                            witness.revocation_secret->size())) != revocation_hash) {
    return util::invalid_argument("revocation secret does not match the revocation hash");
  }
  return util::Status::ok();
}

util::Status check_delayed(const Transaction& tx, size_t index, const DelayedCondition& c,
                           const Coin& coin, BlockHeight height) {
  const Witness& witness = tx.inputs[index].witness;
  switch (witness.path) {
    case SpendPath::kDelayed: {
      if (!signed_by(witness, c.delayed_key)) return missing_signature("delayed");
      const uint32_t sequence = tx.inputs[index].sequence;
      if (sequence < c.delay_blocks) {
        return util::invalid_argument("input sequence " + std::to_string(sequence) +
                                      " is below the delay of " + std::to_string(c.delay_blocks) +
                                      " blocks");
      }
      if (height.value() < coin.height.value() + sequence) {
        return util::failed_precondition("relative delay of " + std::to_string(sequence) +
                                         " blocks after height " + coin.height.to_string() +
                                         " has not passed at height " + height.to_string());
      }
      return util::Status::ok();
    }
    case SpendPath::kRevocation:
      return check_revocation(witness, c.revocation_key, c.revocation_hash);
    case SpendPath::kKey:
    case SpendPath::kMultisig:
    case SpendPath::kPreimage:
    case SpendPath::kTimeout:
      return wrong_path(witness, "delayed");
  }
  return wrong_path(witness, "delayed");
}

util::Status check_htlc(const Transaction& tx, const Witness& witness, const HtlcCondition& c) {
  switch (witness.path) {
    case SpendPath::kPreimage:
      if (!signed_by(witness, c.claim_key)) return missing_signature("claim");
      if (!witness.preimage) return util::invalid_argument("preimage spend without preimage");
      if (witness.preimage->payment_hash() != c.payment_hash)
        return util::invalid_argument("preimage does not match the payment hash");
      return util::Status::ok();
    case SpendPath::kTimeout:
      if (!signed_by(witness, c.timeout_key)) return missing_signature("timeout");
      if (tx.lock_time < c.expiry) {
        return util::invalid_argument("timeout spend with lock time " +
                                      std::to_string(tx.lock_time) + " before the expiry " +
                                      std::to_string(c.expiry));
      }
      return util::Status::ok();
    case SpendPath::kRevocation:
      return check_revocation(witness, c.revocation_key, c.revocation_hash);
    case SpendPath::kKey:
    case SpendPath::kMultisig:
    case SpendPath::kDelayed:
      return wrong_path(witness, "htlc");
  }
  return wrong_path(witness, "htlc");
}

}  // namespace

util::Status ConditionSpendModel::check_input(const Transaction& tx, size_t index, const Coin& coin,
                                              BlockHeight height) const {
  const Witness& witness = tx.inputs[index].witness;
  return std::visit(
      [&](const auto& c) -> util::Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, KeyCondition>) {
          if (witness.path != SpendPath::kKey) return wrong_path(witness, "key");
          if (!signed_by(witness, c.key)) return missing_signature("output");
          return util::Status::ok();
        } else if constexpr (std::is_same_v<T, MultisigCondition>) {
          if (witness.path != SpendPath::kMultisig) return wrong_path(witness, "multisig");
          if (!signed_by(witness, c.first)) return missing_signature("first multisig");
          if (!signed_by(witness, c.second)) return missing_signature("second multisig");
          return util::Status::ok();
        } else if constexpr (std::is_same_v<T, DelayedCondition>) {
          return check_delayed(tx, index, c, coin, height);
        } else {
          static_assert(std::is_same_v<T, HtlcCondition>);
          return check_htlc(tx, witness, c);
        }
      },
      coin.output.condition);
}

const SpendModel& default_spend_model() {
  static const ConditionSpendModel model;
  return model;
}

util::Result<AmountMsat> check_transaction(const Transaction& tx, const CoinView& coins,
                                           BlockHeight height, const SpendModel& model) {
  const std::string txid = tx.txid().to_hex();
  if (tx.inputs.empty()) return util::invalid_argument("transaction " + txid + " has no inputs");
  if (tx.outputs.empty()) return util::invalid_argument("transaction " + txid + " has no outputs");
  if (tx.inputs.size() > kMaxTxInputs || tx.outputs.size() > kMaxTxOutputs)
    return util::invalid_argument("transaction " + txid + " is too large");
  if (tx.lock_time >= height.value()) {
    return util::failed_precondition("transaction " + txid + " with lock time " +
                                     std::to_string(tx.lock_time) + " is not final at height " +
                                     height.to_string());
  }
  std::set<OutPoint> seen;
  AmountMsat in_value;
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    const OutPoint& prevout = tx.inputs[i].prevout;
    if (!seen.insert(prevout).second)
      return util::invalid_argument("transaction " + txid + " spends " + prevout.to_string() +
                                    " twice");
    const Coin* coin = coins.find(prevout);
    if (coin == nullptr)
      return util::not_found("transaction " + txid + " spends " + prevout.to_string() +
                             ", which is missing or spent");
    util::Status input = model.check_input(tx, i, *coin, height);
    if (!input.is_ok())
      return input.with_context("transaction " + txid + " input " + std::to_string(i));
    HASHLOCK_ASSIGN_OR_RETURN(in_value, in_value.checked_add(coin->output.value));
  }
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat out_value, tx.output_value());
  if (out_value > in_value) {
    return util::invalid_argument("transaction " + txid + " creates " + out_value.to_string() +
                                  " from inputs of " + in_value.to_string());
  }
  return in_value.checked_sub(out_value);
}

}  // namespace hashlock::chain
