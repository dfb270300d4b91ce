// The interfaces the miner talks through: the swap contract, the source
// chain, the destination chain wallet and the coordination chain's current
// block. Real deployments plug their own clients in behind these; the
// simulated network (sim_network.h) implements them for tests and demos.
//
// Ownership: the fulfiller borrows every interface; the caller keeps them
// alive for as long as the fulfiller exists.
// Thread-safety: implementations are called from one thread at a time.
// Contract of every call: it returns a value or a CallError. A CallError of
// kind RpcFailure or Timeout means the call may have taken effect anyway;
// every other kind means it did not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "swap/model.h"

namespace hashlock::swap {

// The height of the coordination chain, on which timeouts are counted.
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  virtual CallResult<BlockHeight> current_block() = 0;
};

class SwapContract {
 public:
  virtual ~SwapContract() = default;
  // Every swap the contract holds that is assigned to `miner`, in any status.
  // Each swap decodes on its own: one this build cannot decode (an unknown
  // status value) is an error entry, never a guessed status.
  virtual CallResult<std::vector<util::Result<Swap>>> list_assigned_swaps(
      const std::string& miner) = 0;
  // One swap, or nullopt when the contract does not hold it (never created,
  // completed, or timed out: the contract does not say which).
  virtual CallResult<std::optional<Swap>> get_swap(SwapId id) = 0;
  virtual CallResult<Done> mark_fulfilled(const std::string& miner, SwapId id,
                                          const TxHash& dest_tx_hash, BlockHeight dest_tx_block,
                                          BaseUnits dest_amount) = 0;
};

enum class SourcePaymentState : uint8_t {
  kConfirmed,       // on chain with enough confirmations, right recipient and amount
  kUnconfirmed,     // seen but not yet confirmed deeply enough
  kNotFound,        // no such transaction (never sent, or reorged out)
  kWrongRecipient,  // it pays someone other than the miner's source address
  kWrongAmount,     // it pays less than the swap's source amount
};
std::string_view source_payment_state_name(SourcePaymentState state);

class SourceChain {
 public:
  virtual ~SourceChain() = default;
  virtual CallResult<SourcePaymentState> verify_payment(const std::string& chain,
                                                        const TxHash& tx_hash,
                                                        const std::string& recipient,
                                                        BaseUnits amount) = 0;
};

// What the miner asks the wallet to pay, for one swap.
struct PaymentRequest {
  SwapId swap_id;
  std::string chain;
  std::string to_address;
  BaseUnits amount;
};

// A signed payment whose transaction id is fixed before it is broadcast.
// Broadcasting the same PreparedPayment again can never pay twice: the chain
// accepts one transaction per id. Building a new one for the same request
// gives a new id (the wallet's nonce moves on), which is why the miner
// persists the prepared payment in its send intent before broadcasting.
struct PreparedPayment {
  SwapId swap_id;
  std::string chain;
  std::string to_address;
  BaseUnits amount;
  uint64_t wallet_nonce = 0;
  TxHash tx_id;
};

enum class TxState : uint8_t {
  kIncluded,  // in a block: the payment happened
  kAbsent,    // the chain and its mempool do not know the transaction
};

struct TxLookup {
  TxState state = TxState::kAbsent;
  std::optional<BlockHeight> block;  // set when kIncluded
};

class DestinationWallet {
 public:
  virtual ~DestinationWallet() = default;
  virtual CallResult<PreparedPayment> build_payment(const PaymentRequest& request) = 0;
  virtual CallResult<Done> broadcast(const PreparedPayment& payment) = 0;
  virtual CallResult<TxLookup> lookup(const std::string& chain, const TxHash& tx_id) = 0;
};

}  // namespace hashlock::swap
