// How the engine meets a chain: block notifications in, transactions out,
// and a fee rate.
//
// BlockListener receives the best chain as it changes: block_connected for
// each block that joins it, in height order, and block_disconnected for each
// block a reorganisation removes, from the tip down, before the blocks that
// replace them are connected. Broadcaster hands a transaction to the network
// (an error says why it was refused now; callers retry on a later block).
// FeeEstimator prices a transaction by its encoded size; FixedFeeEstimator
// charges a fixed rate, which is all the simulator needs.
// Thread-safety: implementations say; the simulated ones have none.
#pragma once

#include <vector>

#include "chain/transaction.h"

namespace hashlock::chain {

struct BlockHeader {
  BlockHash hash;
  BlockHash prev_hash;
  BlockHeight height;
  bool operator==(const BlockHeader&) const = default;
};

struct Block {
  BlockHeader header;
  std::vector<Transaction> transactions;
};

class BlockListener {
 public:
  virtual ~BlockListener() = default;
  virtual void block_connected(const Block& block) = 0;
  virtual void block_disconnected(const BlockHeader& header) = 0;
};

// Read access to the best chain, for a listener catching up (after a restart).
class ChainSource {
 public:
  virtual ~ChainSource() = default;
  virtual BlockHeight tip_height() const = 0;
  // `height` must be at most tip_height().
  virtual const Block& block_at(BlockHeight height) const = 0;
};

class Broadcaster {
 public:
  virtual ~Broadcaster() = default;
  virtual util::Status broadcast(const Transaction& tx) = 0;
};

class FeeEstimator {
 public:
  virtual ~FeeEstimator() = default;
  // The fee for a transaction whose encoding is `size_bytes` long.
  virtual util::Result<AmountMsat> fee_for_size(uint64_t size_bytes) const = 0;
};

class FixedFeeEstimator final : public FeeEstimator {
 public:
  explicit FixedFeeEstimator(AmountMsat per_byte) : per_byte_(per_byte) {}
  util::Result<AmountMsat> fee_for_size(uint64_t size_bytes) const override {
    return per_byte_.checked_mul(size_bytes);
  }
  AmountMsat per_byte() const { return per_byte_; }

 private:
  AmountMsat per_byte_;
};

}  // namespace hashlock::chain
