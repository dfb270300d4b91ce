#include "chain/simulated_chain.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>

namespace hashlock::chain {
namespace {

PublicKey key(uint8_t n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = n;
  return PublicKey(bytes);
}

TxOut pay(uint64_t msat, uint8_t to = 1) {
  return TxOut{AmountMsat(msat), KeyCondition{key(to)}};
}

// Spends `from` (a key output of key(1)) into `outputs`.
Transaction spend(const OutPoint& from, std::vector<TxOut> outputs) {
  Transaction tx;
  tx.inputs.push_back(
      TxIn{from, 0, Witness{SpendPath::kKey, {key(1)}, std::nullopt, std::nullopt}});
  tx.outputs = std::move(outputs);
  return tx;
}

class Recorder final : public BlockListener {
 public:
  void block_connected(const Block& block) override {
    log.push_back("+" + block.header.height.to_string());
  }
  void block_disconnected(const BlockHeader& header) override {
    log.push_back("-" + header.height.to_string());
  }
  std::vector<std::string> log;
};

TEST(SimulatedChain, DepositsConfirmAndCountConfirmations) {
  SimulatedChain chain(7);
  auto txid = chain.deposit({pay(5'000), pay(6'000)});
  ASSERT_TRUE(txid.is_ok());
  EXPECT_TRUE(chain.in_mempool(*txid));
  EXPECT_EQ(chain.confirmations(*txid), 0u);
  chain.mine_block();
  EXPECT_FALSE(chain.in_mempool(*txid));
  EXPECT_EQ(chain.confirmations(*txid), 1u);
  chain.mine_blocks(5);
  EXPECT_EQ(chain.confirmations(*txid), 6u);
  EXPECT_EQ(chain.confirmation_height(*txid), BlockHeight(1));
  ASSERT_NE(chain.find_utxo(OutPoint{*txid, 1}), nullptr);
  EXPECT_EQ(chain.find_utxo(OutPoint{*txid, 1})->output.value, AmountMsat(6'000));
  EXPECT_EQ(chain.confirmed_deposits(), AmountMsat(11'000));
  // Two identical deposits are still two transactions.
  auto again = chain.deposit({pay(5'000), pay(6'000)});
  ASSERT_TRUE(again.is_ok());
  EXPECT_NE(*again, *txid);
}

TEST(SimulatedChain, SpendsPayFeesAndChainInTheMempool) {
  SimulatedChain chain(7);
  const Txid funding = chain.deposit({pay(10'000)}).value();
  chain.mine_block();
  const Transaction first = spend(OutPoint{funding, 0}, {pay(9'000)});
  ASSERT_TRUE(chain.broadcast(first).is_ok());
  // A child of a mempool transaction is accepted too and mined with it.
  const Transaction second = spend(OutPoint{first.txid(), 0}, {pay(8'500)});
  ASSERT_TRUE(chain.broadcast(second).is_ok());
  chain.mine_block();
  EXPECT_EQ(chain.confirmations(first.txid()), 1u);
  EXPECT_EQ(chain.confirmations(second.txid()), 1u);
  EXPECT_EQ(chain.confirmed_fees(), AmountMsat(1'500));
  EXPECT_EQ(chain.spender(OutPoint{funding, 0}), first.txid());
  EXPECT_EQ(chain.find_utxo(OutPoint{first.txid(), 0}), nullptr);
}

TEST(SimulatedChain, RefusesDoubleSpendsAndAcceptsRebroadcasts) {
  SimulatedChain chain(7);
  const Txid funding = chain.deposit({pay(10'000)}).value();
  chain.mine_block();
  const Transaction first = spend(OutPoint{funding, 0}, {pay(9'000)});
  const Transaction rival = spend(OutPoint{funding, 0}, {pay(9'500, 2)});
  ASSERT_TRUE(chain.broadcast(first).is_ok());
  EXPECT_TRUE(chain.broadcast(first).is_ok());  // already known
  util::Status refused = chain.broadcast(rival);
  EXPECT_EQ(refused.code(), util::StatusCode::kConflict);
  EXPECT_NE(refused.message().find("double-spends"), std::string::npos);
  chain.mine_block();
  EXPECT_TRUE(chain.broadcast(first).is_ok());  // already confirmed
  EXPECT_EQ(chain.broadcast(rival).code(), util::StatusCode::kNotFound);
  EXPECT_EQ(chain.mempool().size(), 0u);
}

TEST(SimulatedChain, RefusesInvalidTransactionsWithTheirReason) {
  SimulatedChain chain(7);
  const Txid funding = chain.deposit({pay(10'000)}).value();
  chain.mine_block();
  EXPECT_EQ(chain.broadcast(spend(OutPoint{funding, 0}, {pay(10'001)})).code(),
            util::StatusCode::kInvalidArgument);
  Transaction not_final = spend(OutPoint{funding, 0}, {pay(9'000)});
  not_final.lock_time = 5;
  EXPECT_EQ(chain.broadcast(not_final).code(), util::StatusCode::kFailedPrecondition);
  chain.mine_blocks(4);  // tip 5, next block 6
  EXPECT_TRUE(chain.broadcast(not_final).is_ok());
  Transaction minted;
  minted.outputs.push_back(pay(1));
  EXPECT_EQ(chain.broadcast(minted).code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(chain.deposit({}).is_ok());
  EXPECT_EQ(chain.stats().broadcasts_refused, 3u);
}

TEST(SimulatedChain, ListenersHearDisconnectsTopDownThenTheNewBlocks) {
  SimulatedChain chain(7);
  Recorder recorder;
  chain.add_listener(&recorder);
  chain.mine_blocks(3);
  ASSERT_TRUE(chain.reorg(2).is_ok());
  EXPECT_EQ(recorder.log,
            (std::vector<std::string>{"+1", "+2", "+3", "-3", "-2", "+2", "+3", "+4"}));
  EXPECT_EQ(chain.tip_height(), BlockHeight(4));
  EXPECT_EQ(chain.stats().reorgs, 1u);
  chain.remove_listener(&recorder);
  chain.mine_block();
  EXPECT_EQ(recorder.log.size(), 8u);
}

TEST(SimulatedChain, ReorgReturnsTransactionsToTheMempoolAndMovesThem) {
  SimulatedChain chain(11);
  const Txid funding = chain.deposit({pay(10'000), pay(10'000), pay(10'000), pay(10'000)}).value();
  chain.mine_block();
  std::vector<Txid> spends;
  for (uint32_t i = 0; i < 4; ++i) {
    const Transaction tx = spend(OutPoint{funding, i}, {pay(9'000)});
    ASSERT_TRUE(chain.broadcast(tx).is_ok());
    spends.push_back(tx.txid());
  }
  chain.mine_block();
  const BlockHash replaced = chain.tip().hash;
  ASSERT_TRUE(chain.reorg(1).is_ok());
  EXPECT_NE(chain.blocks()[2].header.hash, replaced);
  EXPECT_EQ(chain.tip_height(), BlockHeight(3));
  // Every spend is either confirmed in the new chain or back in the mempool.
  for (const Txid& txid : spends) {
    EXPECT_NE(chain.confirmations(txid) > 0, chain.in_mempool(txid)) << txid.to_hex();
  }
  chain.mine_block();
  for (const Txid& txid : spends) EXPECT_GT(chain.confirmations(txid), 0u);
}

TEST(SimulatedChain, ReorgDropsTransactionsNoLongerFinal) {
  SimulatedChain chain(3);
  const Txid funding = chain.deposit({pay(10'000)}).value();
  chain.mine_blocks(5);
  Transaction locked = spend(OutPoint{funding, 0}, {pay(9'000)});
  locked.lock_time = 5;  // final from height 6
  ASSERT_TRUE(chain.broadcast(locked).is_ok());
  chain.mine_block();
  ASSERT_EQ(chain.confirmation_height(locked.txid()), BlockHeight(6));
  ASSERT_TRUE(chain.reorg(2).is_ok());  // back to tip 4: the next block (5) cannot take it
  // It may have been mined again in replacement block 6, or dropped; never in 5.
  const auto height = chain.confirmation_height(locked.txid());
  EXPECT_TRUE(!height || *height >= BlockHeight(6));
}

TEST(SimulatedChain, ReorgDepthIsChecked) {
  SimulatedChain chain(3);
  chain.mine_blocks(2);
  EXPECT_EQ(chain.reorg(0).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.reorg(3).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.reorg(kMaxReorgDepth + 1).code(), util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(chain.reorg(2).is_ok());
}

TEST(SimulatedChain, OneSeedGivesTheSameChain) {
  auto run = [](uint64_t seed) {
    SimulatedChain chain(seed);
    const Txid funding = chain.deposit({pay(10'000), pay(20'000)}).value();
    chain.mine_block();
    EXPECT_TRUE(chain.broadcast(spend(OutPoint{funding, 0}, {pay(9'000)})).is_ok());
    EXPECT_TRUE(chain.broadcast(spend(OutPoint{funding, 1}, {pay(19'000)})).is_ok());
    chain.mine_blocks(2);
    EXPECT_TRUE(chain.reorg(2).is_ok());
    return chain.tip().hash;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

// --- property: the unspent set is a replay of the best chain -----------------

std::map<OutPoint, Coin> replay(const SimulatedChain& chain) {
  std::map<OutPoint, Coin> coins;
  for (const Block& block : chain.blocks()) {
    for (const Transaction& tx : block.transactions) {
      for (const TxIn& in : tx.inputs) {
        RC_ASSERT(coins.erase(in.prevout) == 1u);
      }
      const Txid txid = tx.txid();
      for (size_t i = 0; i < tx.outputs.size(); ++i) {
        coins[OutPoint{txid, static_cast<uint32_t>(i)}] = Coin{tx.outputs[i], block.header.height};
      }
    }
  }
  return coins;
}

void check_invariants(const SimulatedChain& chain) {
  const std::map<OutPoint, Coin> replayed = replay(chain);
  RC_ASSERT(replayed == chain.utxos());
  std::set<Txid> seen;
  for (const Block& block : chain.blocks()) {
    for (const Transaction& tx : block.transactions) RC_ASSERT(seen.insert(tx.txid()).second);
  }
  for (const Transaction& tx : chain.mempool()) RC_ASSERT(seen.insert(tx.txid()).second);
  AmountMsat unspent;
  for (const auto& [outpoint, coin] : chain.utxos()) {
    unspent = unspent.checked_add(coin.output.value).value();
  }
  RC_ASSERT(unspent.checked_add(chain.confirmed_fees()).value() == chain.confirmed_deposits());
  for (size_t h = 1; h < chain.blocks().size(); ++h) {
    RC_ASSERT(chain.blocks()[h].header.prev_hash == chain.blocks()[h - 1].header.hash);
    RC_ASSERT(chain.blocks()[h].header.height == BlockHeight(h));
  }
}

RC_GTEST_PROP(SimulatedChainProperty, UnspentSetEqualsReplayOfBestChain, (uint64_t seed)) {
  SimulatedChain chain(seed);
  util::Rng rng(seed ^ 0x5eed);
  std::vector<OutPoint> known;  // outputs we have created, spent or not
  const auto steps = *rc::gen::inRange<size_t>(1, 120);
  for (size_t step = 0; step < steps; ++step) {
    const auto action = *rc::gen::inRange(0, 10);
    if (action == 0 || known.empty()) {
      const auto value = *rc::gen::inRange<uint64_t>(1, 1'000'000);
      const Txid txid = chain.deposit({pay(value), pay(value + 1)}).value();
      known.push_back(OutPoint{txid, 0});
      known.push_back(OutPoint{txid, 1});
    } else if (action <= 4) {
      const OutPoint from = known[rng.below(known.size())];
      const Coin* coin = chain.find_utxo(from);
      const uint64_t value = coin ? coin->output.value.value() : 1;
      const uint64_t fee = rng.below(value / 2 + 1);
      Transaction tx = spend(from, {pay(value - fee)});
      tx.lock_time = static_cast<uint32_t>(rng.below(chain.tip_height().value() + 3));
      util::Status status = chain.broadcast(tx);
      if (status.is_ok()) {
        known.push_back(OutPoint{tx.txid(), 0});
        RC_ASSERT(chain.in_mempool(tx.txid()) || chain.confirmations(tx.txid()) > 0);
      }
    } else if (action <= 7) {
      chain.mine_block();
    } else if (chain.tip_height() > BlockHeight(0)) {
      const uint64_t depth = 1 + rng.below(std::min<uint64_t>(chain.tip_height().value(), 6));
      RC_ASSERT(chain.reorg(depth).is_ok());
    }
    check_invariants(chain);
  }
}

}  // namespace
}  // namespace hashlock::chain
