// SimulatedChain: a deterministic chain for tests and the simulator.
//
// It keeps a best chain of blocks from an empty genesis block (height 0), the
// set of unspent outputs, and a mempool. broadcast() accepts a transaction
// only if it could go into the next block (spending confirmed outputs or
// outputs of earlier mempool transactions); a transaction spending an output
// a mempool transaction already spends is refused as a double spend
// (Conflict), and re-broadcasting a known transaction is a no-op. deposit()
// brings new coins in from outside the model (a transaction without inputs).
//
// mine_block() puts mempool transactions into a new block in the order they
// arrived, then drops from the mempool whatever the block made invalid.
// reorg(depth) disconnects the top `depth` blocks (listeners hear
// block_disconnected from the tip down), returns their transactions to the
// mempool ahead of the others, drops those no longer valid, and mines
// depth + 1 replacement blocks in which each transaction is taken only with
// probability one half (drawn from the seeded Rng): confirmation heights
// move, and some transactions fall back to the mempool. One seed reproduces
// the same blocks.
//
// Invariants: the unspent set always equals a replay of the best chain from
// genesis; every mempool transaction is valid for the next block; the value
// deposited into the best chain equals the unspent value plus the fees paid.
// Thread-safety: none.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "chain/interfaces.h"
#include "chain/spend.h"
#include "util/random.h"

namespace hashlock::chain {

inline constexpr size_t kMaxMempoolTransactions = 100'000;
inline constexpr size_t kMaxBlockTransactions = 10'000;
inline constexpr size_t kMaxReorgDepth = 100;

struct ChainStats {
  uint64_t blocks_mined = 0;
  uint64_t blocks_disconnected = 0;
  uint64_t reorgs = 0;
  uint64_t broadcasts_accepted = 0;
  uint64_t broadcasts_refused = 0;
  bool operator==(const ChainStats&) const = default;
};

class SimulatedChain final : public Broadcaster, public ChainSource {
 public:
  explicit SimulatedChain(uint64_t seed, const SpendModel& model = default_spend_model());

  // Listeners are not owned and must outlive the chain or be removed first.
  void add_listener(BlockListener* listener);
  void remove_listener(BlockListener* listener);

  // New coins from outside the model, confirmed in the next block.
  util::Result<Txid> deposit(std::vector<TxOut> outputs);
  // A deposit prepared by the caller (no inputs), whose txid it knew in
  // advance; refused if that txid is already known.
  util::Status deposit_transaction(const Transaction& tx);
  util::Status broadcast(const Transaction& tx) override;

  const Block& mine_block();
  void mine_blocks(size_t count);
  util::Status reorg(size_t depth);

  BlockHeight tip_height() const override { return blocks_.back().header.height; }
  const Block& block_at(BlockHeight height) const override;
  const BlockHeader& tip() const { return blocks_.back().header; }
  // blocks()[h] is the block at height h.
  const std::vector<Block>& blocks() const { return blocks_; }
  // 1 when in the tip block, 0 when not in the best chain.
  uint32_t confirmations(const Txid& txid) const;
  std::optional<BlockHeight> confirmation_height(const Txid& txid) const;
  bool in_mempool(const Txid& txid) const;
  const std::vector<Transaction>& mempool() const { return mempool_; }
  const std::map<OutPoint, Coin>& utxos() const { return utxos_; }
  const Coin* find_utxo(const OutPoint& outpoint) const;
  // The confirmed transaction that spent `outpoint`, if any.
  std::optional<Txid> spender(const OutPoint& outpoint) const;
  // Over the best chain: value brought in by deposits, and fees paid.
  AmountMsat confirmed_deposits() const { return deposits_; }
  AmountMsat confirmed_fees() const { return fees_; }
  const ChainStats& stats() const { return stats_; }

 private:
  struct BlockUndo {
    std::vector<std::pair<OutPoint, Coin>> spent;
    std::vector<OutPoint> created;
    AmountMsat deposits;
    AmountMsat fees;
  };

  const Block& mine(bool coin_flip);
  void connect(Block block);
  std::vector<Transaction> disconnect_tip();
  void rebuild_mempool();
  BlockHash block_hash(const BlockHeader& header, const std::vector<Transaction>& txs);
  std::vector<BlockListener*> listeners_snapshot() const { return listeners_; }

  util::Rng rng_;
  const SpendModel* model_;
  std::vector<BlockListener*> listeners_;
  std::vector<Block> blocks_;
  std::vector<BlockUndo> undo_;  // parallel to blocks_
  std::map<OutPoint, Coin> utxos_;
  std::map<Txid, uint64_t> tx_heights_;  // confirmed transactions of the best chain
  std::map<OutPoint, Txid> spenders_;    // confirmed spends of the best chain
  std::vector<Transaction> mempool_;
  std::set<Txid> mempool_ids_;
  AmountMsat deposits_;
  AmountMsat fees_;
  ChainStats stats_;
};

}  // namespace hashlock::chain
