// Spend validation: whether a transaction may go into a block.
//
// SpendModel is the one place that interprets output conditions; the chain
// and the engine see only its verdicts, so real scripts can replace the
// model later. ConditionSpendModel implements the conditions of
// transaction.h: the right keys sign, the preimage hashes to the payment
// hash, the revocation secret hashes to the revocation hash, the relative
// delay has passed since the spent output confirmed, and a timeout spend's
// lock time reaches the HTLC's expiry.
//
// check_transaction() checks a whole transaction against a view of unspent
// outputs for a block at a given height and returns its fee. Its error codes
// tell callers what may change with time:
//   NotFound            an input is missing or already spent;
//   FailedPrecondition  a lock time or relative delay has not passed yet;
//   InvalidArgument     anything else (bad witness, value created, ...).
// Thread-safety: ConditionSpendModel is immutable and may be shared.
#pragma once

#include "chain/transaction.h"

namespace hashlock::chain {

// An unspent output and the height of the block that created it.
struct Coin {
  TxOut output;
  BlockHeight height;
  bool operator==(const Coin&) const = default;
};

class CoinView {
 public:
  virtual ~CoinView() = default;
  // Null when `outpoint` is not an unspent output in this view.
  virtual const Coin* find(const OutPoint& outpoint) const = 0;
};

class SpendModel {
 public:
  virtual ~SpendModel() = default;
  // Whether input `index` of `tx`, in a block at `height`, satisfies the
  // condition of `coin` (the output it spends).
  virtual util::Status check_input(const Transaction& tx, size_t index, const Coin& coin,
                                   BlockHeight height) const = 0;
};

class ConditionSpendModel final : public SpendModel {
 public:
  util::Status check_input(const Transaction& tx, size_t index, const Coin& coin,
                           BlockHeight height) const override;
};

// The model used unless a caller supplies another.
const SpendModel& default_spend_model();

// Checks `tx` for a block at `height`; returns its fee (inputs - outputs).
util::Result<AmountMsat> check_transaction(const Transaction& tx, const CoinView& coins,
                                           BlockHeight height, const SpendModel& model);

}  // namespace hashlock::chain
