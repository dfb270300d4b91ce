#include "chain/simulated_chain.h"

#include <algorithm>

#include "codec/wire.h"
#include "util/check.h"

namespace hashlock::chain {

namespace {

// The unspent outputs of the chain with the effects of some transactions on top.
class OverlayView final : public CoinView {
 public:
  explicit OverlayView(const std::map<OutPoint, Coin>& base) : base_(&base) {}

  const Coin* find(const OutPoint& outpoint) const override {
    if (spent_.count(outpoint) > 0) return nullptr;
    auto added = added_.find(outpoint);
    if (added != added_.end()) return &added->second;
    auto it = base_->find(outpoint);
    return it == base_->end() ? nullptr : &it->second;
  }

  // The transaction in this view that spends `outpoint`, if any.
  std::optional<Txid> spent_by(const OutPoint& outpoint) const {
    auto it = spent_.find(outpoint);
    if (it == spent_.end()) return std::nullopt;
    return it->second;
  }

  void apply(const Transaction& tx, BlockHeight height) {
    const Txid txid = tx.txid();
    for (const TxIn& in : tx.inputs) {
      if (added_.erase(in.prevout) == 0) spent_.emplace(in.prevout, txid);
    }
    for (size_t i = 0; i < tx.outputs.size(); ++i) {
      added_.insert_or_assign(OutPoint{txid, static_cast<uint32_t>(i)},
                              Coin{tx.outputs[i], height});
    }
  }

 private:
  const std::map<OutPoint, Coin>* base_;
  std::map<OutPoint, Coin> added_;
  std::map<OutPoint, Txid> spent_;
};

// Whether `tx` could go into a block at `height` on top of `view`.
util::Status check_for_block(const Transaction& tx, const OverlayView& view, BlockHeight height,
                             const SpendModel& model) {
  if (tx.inputs.empty()) return util::Status::ok();  // a deposit
  for (const TxIn& in : tx.inputs) {
    if (auto other = view.spent_by(in.prevout)) {
      return util::conflict("transaction " + tx.txid().to_hex() + " double-spends " +
                            in.prevout.to_string() + ", already spent by " + other->to_hex());
    }
  }
  auto fee = check_transaction(tx, view, height, model);
  return fee.is_ok() ? util::Status::ok() : fee.status();
}

}  // namespace

SimulatedChain::SimulatedChain(uint64_t seed, const SpendModel& model)
    : rng_(seed), model_(&model) {
  Block genesis;
  codec::ByteWriter w;
  w.var_string("hashlock simulated genesis");
  w.u64(seed);
  genesis.header.hash = BlockHash(util::sha256(w.bytes()));
  blocks_.push_back(std::move(genesis));
  undo_.emplace_back();
}

void SimulatedChain::add_listener(BlockListener* listener) {
  HASHLOCK_CHECK(listener != nullptr, "null block listener");
  listeners_.push_back(listener);
}

void SimulatedChain::remove_listener(BlockListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

util::Result<Txid> SimulatedChain::deposit(std::vector<TxOut> outputs) {
  if (outputs.empty()) return util::invalid_argument("a deposit needs at least one output");
  if (mempool_.size() >= kMaxMempoolTransactions) return util::unavailable("the mempool is full");
  Transaction tx;
  tx.outputs = std::move(outputs);
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat value, tx.output_value());
  (void)value;  // only checked: the total must be representable
  // Number the deposit so its txid is new (see Transaction::inputs).
  uint32_t number = 0;
  while (tx_heights_.count(tx.txid()) > 0 || mempool_ids_.count(tx.txid()) > 0) {
    tx.lock_time = ++number;
  }
  const Txid txid = tx.txid();
  mempool_ids_.insert(txid);
  mempool_.push_back(std::move(tx));
  return txid;
}

util::Status SimulatedChain::deposit_transaction(const Transaction& tx) {
  if (!tx.inputs.empty()) return util::invalid_argument("a deposit has no inputs");
  if (tx.outputs.empty()) return util::invalid_argument("a deposit needs at least one output");
  if (mempool_.size() >= kMaxMempoolTransactions) return util::unavailable("the mempool is full");
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat value, tx.output_value());
  (void)value;  // only checked: the total must be representable
  const Txid txid = tx.txid();
  if (tx_heights_.count(txid) > 0 || mempool_ids_.count(txid) > 0)
    return util::conflict("deposit " + txid.to_hex() + " is already known");
  mempool_ids_.insert(txid);
  mempool_.push_back(tx);
  return util::Status::ok();
}

util::Status SimulatedChain::broadcast(const Transaction& tx) {
  const Txid txid = tx.txid();
  if (tx_heights_.count(txid) > 0 || mempool_ids_.count(txid) > 0) return util::Status::ok();
  if (tx.inputs.empty()) {
    ++stats_.broadcasts_refused;
    return util::invalid_argument("transaction " + txid.to_hex() +
                                  " has no inputs; new coins come in by deposit()");
  }
  if (mempool_.size() >= kMaxMempoolTransactions) {
    ++stats_.broadcasts_refused;
    return util::unavailable("the mempool is full");
  }
  OverlayView view(utxos_);
  const BlockHeight next(tip_height().value() + 1);
  for (const Transaction& pending : mempool_) view.apply(pending, next);
  util::Status valid = check_for_block(tx, view, next, *model_);
  if (!valid.is_ok()) {
    ++stats_.broadcasts_refused;
    return valid;
  }
  ++stats_.broadcasts_accepted;
  mempool_ids_.insert(txid);
  mempool_.push_back(tx);
  return util::Status::ok();
}

const Block& SimulatedChain::mine_block() {
  return mine(false);
}

void SimulatedChain::mine_blocks(size_t count) {
  for (size_t i = 0; i < count; ++i) mine(false);
}

const Block& SimulatedChain::mine(bool coin_flip) {
  const BlockHeight height(tip_height().value() + 1);
  OverlayView view(utxos_);
  Block block;
  block.header.height = height;
  block.header.prev_hash = tip().hash;
  std::vector<Transaction> left;
  for (Transaction& tx : mempool_) {
    bool take = block.transactions.size() < kMaxBlockTransactions;
    if (take && coin_flip) take = rng_.chance(0.5);
    if (take) take = check_for_block(tx, view, height, *model_).is_ok();
    if (take) {
      view.apply(tx, height);
      block.transactions.push_back(std::move(tx));
    } else {
      left.push_back(std::move(tx));
    }
  }
  mempool_ = std::move(left);
  block.header.hash = block_hash(block.header, block.transactions);
  connect(std::move(block));
  rebuild_mempool();
  for (BlockListener* listener : listeners_snapshot()) listener->block_connected(blocks_.back());
  return blocks_.back();
}

void SimulatedChain::connect(Block block) {
  BlockUndo undo;
  const uint64_t height = block.header.height.value();
  for (const Transaction& tx : block.transactions) {
    const Txid txid = tx.txid();
    mempool_ids_.erase(txid);
    AmountMsat in_value;
    for (const TxIn& in : tx.inputs) {
      auto coin = utxos_.find(in.prevout);
      HASHLOCK_CHECK(coin != utxos_.end(), "a mined transaction spends a missing output");
      in_value = in_value.checked_add(coin->second.output.value).value();
      undo.spent.emplace_back(coin->first, coin->second);
      spenders_.insert_or_assign(in.prevout, txid);
      utxos_.erase(coin);
    }
    for (size_t i = 0; i < tx.outputs.size(); ++i) {
      const OutPoint outpoint{txid, static_cast<uint32_t>(i)};
      utxos_.insert_or_assign(outpoint, Coin{tx.outputs[i], block.header.height});
      undo.created.push_back(outpoint);
    }
    const AmountMsat out_value = tx.output_value().value();
    if (tx.inputs.empty()) {
      undo.deposits = undo.deposits.checked_add(out_value).value();
    } else {
      undo.fees = undo.fees.checked_add(in_value.checked_sub(out_value).value()).value();
    }
    tx_heights_[txid] = height;
  }
  deposits_ = deposits_.checked_add(undo.deposits).value();
  fees_ = fees_.checked_add(undo.fees).value();
  blocks_.push_back(std::move(block));
  undo_.push_back(std::move(undo));
  ++stats_.blocks_mined;
}

std::vector<Transaction> SimulatedChain::disconnect_tip() {
  HASHLOCK_CHECK(blocks_.size() > 1, "the genesis block is never disconnected");
  Block block = std::move(blocks_.back());
  BlockUndo undo = std::move(undo_.back());
  blocks_.pop_back();
  undo_.pop_back();
  // Restore first, then erase: an output created and spent within the block
  // is among both and must end up absent.
  for (auto& [outpoint, coin] : undo.spent) {
    spenders_.erase(outpoint);
    utxos_.insert_or_assign(outpoint, coin);
  }
  for (const OutPoint& outpoint : undo.created) utxos_.erase(outpoint);
  for (const Transaction& tx : block.transactions) tx_heights_.erase(tx.txid());
  deposits_ = deposits_.checked_sub(undo.deposits).value();
  fees_ = fees_.checked_sub(undo.fees).value();
  ++stats_.blocks_disconnected;
  for (BlockListener* listener : listeners_snapshot()) listener->block_disconnected(block.header);
  return std::move(block.transactions);
}

util::Status SimulatedChain::reorg(size_t depth) {
  if (depth == 0 || depth > kMaxReorgDepth) {
    return util::invalid_argument("reorg depth must be between 1 and " +
                                  std::to_string(kMaxReorgDepth) + ", got " +
                                  std::to_string(depth));
  }
  if (depth > tip_height().value()) {
    return util::invalid_argument("reorg of depth " + std::to_string(depth) +
                                  " would disconnect the genesis block (tip is at height " +
                                  tip_height().to_string() + ")");
  }
  std::vector<std::vector<Transaction>> returned;
  for (size_t i = 0; i < depth; ++i) returned.push_back(disconnect_tip());
  std::vector<Transaction> pool;
  for (auto it = returned.rbegin(); it != returned.rend(); ++it) {
    for (Transaction& tx : *it) pool.push_back(std::move(tx));
  }
  for (Transaction& tx : mempool_) pool.push_back(std::move(tx));
  mempool_ = std::move(pool);
  rebuild_mempool();
  ++stats_.reorgs;
  for (size_t i = 0; i <= depth; ++i) mine(true);
  return util::Status::ok();
}

void SimulatedChain::rebuild_mempool() {
  std::vector<Transaction> old;
  old.swap(mempool_);
  mempool_ids_.clear();
  OverlayView view(utxos_);
  const BlockHeight next(tip_height().value() + 1);
  for (Transaction& tx : old) {
    const Txid txid = tx.txid();
    if (tx_heights_.count(txid) > 0 || mempool_ids_.count(txid) > 0) continue;
    if (!check_for_block(tx, view, next, *model_).is_ok()) continue;
    view.apply(tx, next);
    mempool_ids_.insert(txid);
    mempool_.push_back(std::move(tx));
  }
}

BlockHash SimulatedChain::block_hash(const BlockHeader& header,
                                     const std::vector<Transaction>& txs) {
  codec::ByteWriter w;
  w.raw(header.prev_hash.view());
  w.u64(header.height.value());
  for (const Transaction& tx : txs) w.raw(tx.txid().view());
  w.u64(rng_.next_u64());  // replacement blocks of a reorg differ from the ones they replace
  return BlockHash(util::sha256(w.bytes()));
}

const Block& SimulatedChain::block_at(BlockHeight height) const {
  HASHLOCK_CHECK(height <= tip_height(), "block_at above the tip");
  return blocks_[height.value()];
}

uint32_t SimulatedChain::confirmations(const Txid& txid) const {
  auto it = tx_heights_.find(txid);
  if (it == tx_heights_.end()) return 0;
  return static_cast<uint32_t>(tip_height().value() - it->second + 1);
}

std::optional<BlockHeight> SimulatedChain::confirmation_height(const Txid& txid) const {
  auto it = tx_heights_.find(txid);
  if (it == tx_heights_.end()) return std::nullopt;
  return BlockHeight(it->second);
}

bool SimulatedChain::in_mempool(const Txid& txid) const {
  return mempool_ids_.count(txid) > 0;
}

const Coin* SimulatedChain::find_utxo(const OutPoint& outpoint) const {
  auto it = utxos_.find(outpoint);
  return it == utxos_.end() ? nullptr : &it->second;
}

std::optional<Txid> SimulatedChain::spender(const OutPoint& outpoint) const {
  auto it = spenders_.find(outpoint);
  if (it == spenders_.end()) return std::nullopt;
  return it->second;
}

}  // namespace hashlock::chain
