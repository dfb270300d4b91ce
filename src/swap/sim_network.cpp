#include "swap/sim_network.h"

#include <algorithm>

#include "util/bytes.h"

namespace hashlock::swap {
namespace {

TxHash derive_hash(std::string_view domain, uint64_t a, uint64_t b) {
  std::string text(domain);
  text += ":" + std::to_string(a) + ":" + std::to_string(b);
  return TxHash(util::sha256(util::as_bytes(text)));
}

CallError fault_error(CallErrorKind kind, bool after_effect) {
  return call_error(kind, after_effect ? "simulated fault after the call took effect"
                                       : "simulated fault; the call had no effect");
}

}  // namespace

// --- Interface adapters: each points back into the world. ---

class SimNetwork::Blocks final : public BlockSource {
 public:
  explicit Blocks(SimNetwork& net) : net_(&net) {}
  CallResult<BlockHeight> current_block() override {
    if (net_->block_unknown_)
      return call_error(CallErrorKind::kRpcFailure, "block source unreachable");
    if (auto fault = net_->draw_fault(SimCall::kCurrentBlock, false))
      return fault_error(fault->kind, false);
    return net_->height_;
  }

 private:
  SimNetwork* net_;
};

class SimNetwork::Contract final : public SwapContract {
 public:
  explicit Contract(SimNetwork& net) : net_(&net) {}

  CallResult<std::vector<util::Result<Swap>>> list_assigned_swaps(
      const std::string& miner) override {
    if (auto fault = net_->draw_fault(SimCall::kListSwaps, false))
      return fault_error(fault->kind, false);
    std::vector<util::Result<Swap>> out;
    for (const auto& [id, live] : net_->live_) {
      if (live.swap.miner == miner) out.push_back(net_->decode(live));
    }
    return out;
  }

  CallResult<std::optional<Swap>> get_swap(SwapId id) override {
    if (auto fault = net_->draw_fault(SimCall::kGetSwap, false))
      return fault_error(fault->kind, false);
    auto it = net_->live_.find(id);
    if (it == net_->live_.end()) return std::optional<Swap>();
    if (net_->scripted_misses_ > 0) {
      --net_->scripted_misses_;
      return std::optional<Swap>();
    }
    if (net_->rng_.chance(net_->options_.swap_read_miss_rate)) return std::optional<Swap>();
    util::Result<Swap> swap = net_->decode(it->second);
    if (!swap.is_ok())
      return call_error(CallErrorKind::kMalformedResponse, swap.status().message());
    return std::optional<Swap>(std::move(swap).value());
  }

  CallResult<Done> mark_fulfilled(const std::string& miner, SwapId id, const TxHash& dest_tx_hash,
                                  BlockHeight dest_tx_block, BaseUnits dest_amount) override {
    auto fault = net_->draw_fault(SimCall::kMarkFulfilled, true);
    SimMarkCall call{id, dest_tx_hash, dest_tx_block, dest_amount, false};
    if (fault && !fault->after_effect) {
      net_->mark_calls_.push_back(call);
      return fault_error(fault->kind, false);
    }
    if (net_->height_ < net_->marks_fail_until_) {
      net_->mark_calls_.push_back(call);
      return call_error(CallErrorKind::kCallFailed, "simulated coordination-chain outage");
    }
    CallResult<Done> result = apply(miner, id, dest_tx_hash, dest_tx_block, dest_amount, call);
    net_->mark_calls_.push_back(call);
    if (fault) return fault_error(fault->kind, true);
    return result;
  }

 private:
  CallResult<Done> apply(const std::string& miner, SwapId id, const TxHash& dest_tx_hash,
                         BlockHeight dest_tx_block, BaseUnits dest_amount, SimMarkCall& call) {
    auto it = net_->live_.find(id);
    if (it == net_->live_.end()) return call_error(CallErrorKind::kSwapNotFound, id.to_string());
    LiveSwap& live = it->second;
    if (live.swap.miner != miner) return call_error(CallErrorKind::kNotAssignedMiner, miner);
    if (net_->miner_inactive_[miner]) return call_error(CallErrorKind::kMinerNotActive, miner);
    if (live.wire_status != kWireStatusActive)
      return call_error(CallErrorKind::kInvalidStatus, "not Active");
    if (dest_amount < live.swap.dest_amount) {
      return call_error(CallErrorKind::kInvalidAmount,
                        dest_amount.to_string() + " < " + live.swap.dest_amount.to_string());
    }
    live.wire_status = kWireStatusFulfilled;
    live.swap.status = SwapStatus::kFulfilled;
    live.swap.dest_tx_hash = dest_tx_hash;
    live.swap.dest_tx_block = dest_tx_block;
    live.swap.fulfilled_block = net_->height_;
    live.marked = true;
    live.complete_at = BlockHeight(net_->height_.value() +
                                   net_->rng_.between(net_->options_.completion_delay_min_blocks,
                                                      net_->options_.completion_delay_max_blocks));
    call.landed = true;
    return Done{};
  }

  SimNetwork* net_;
};

class SimNetwork::Source final : public SourceChain {
 public:
  explicit Source(SimNetwork& net) : net_(&net) {}
  CallResult<SourcePaymentState> verify_payment(const std::string& /*chain*/, const TxHash& tx_hash,
                                                const std::string& recipient,
                                                BaseUnits amount) override {
    if (auto fault = net_->draw_fault(SimCall::kVerifyPayment, false))
      return fault_error(fault->kind, false);
    auto it = net_->source_payments_.find(tx_hash);
    if (it == net_->source_payments_.end() || it->second.reorged_out)
      return SourcePaymentState::kNotFound;
    const SourcePayment& payment = it->second;
    if (payment.recipient != recipient) return SourcePaymentState::kWrongRecipient;
    if (payment.amount < amount) return SourcePaymentState::kWrongAmount;
    if (net_->height_.blocks_after(payment.block) <
        static_cast<int64_t>(net_->options_.source_confirmation_blocks)) {
      return SourcePaymentState::kUnconfirmed;
    }
    return SourcePaymentState::kConfirmed;
  }

 private:
  SimNetwork* net_;
};

class SimNetwork::Wallet final : public DestinationWallet {
 public:
  explicit Wallet(SimNetwork& net) : net_(&net) {}

  CallResult<PreparedPayment> build_payment(const PaymentRequest& request) override {
    if (auto fault = net_->draw_fault(SimCall::kBuildPayment, false))
      return fault_error(fault->kind, false);
    const uint64_t nonce = ++net_->wallet_nonce_;
    return PreparedPayment{
        request.swap_id, request.chain, request.to_address,
        request.amount,  nonce,         derive_hash("dest-tx", nonce, request.swap_id.value())};
  }

  CallResult<Done> broadcast(const PreparedPayment& payment) override {
    auto fault = net_->draw_fault(SimCall::kBroadcast, true);
    if (fault && !fault->after_effect) return fault_error(fault->kind, false);
    CallResult<Done> result = include(payment);
    if (fault && result.is_ok()) return fault_error(fault->kind, true);
    return result;
  }

  CallResult<TxLookup> lookup(const std::string& /*chain*/, const TxHash& tx_id) override {
    if (auto fault = net_->draw_fault(SimCall::kLookup, false))
      return fault_error(fault->kind, false);
    auto it = net_->dest_by_tx_.find(tx_id);
    if (it == net_->dest_by_tx_.end()) return TxLookup{TxState::kAbsent, std::nullopt};
    return TxLookup{TxState::kIncluded, net_->payments_[it->second].block};
  }

 private:
  CallResult<Done> include(const PreparedPayment& payment) {
    if (net_->dest_by_tx_.contains(payment.tx_id)) return Done{};  // one transaction per id
    const uint64_t cost = payment.amount.value() + net_->options_.wallet_fee;
    if (net_->balance_ < cost) {
      return call_error(
          CallErrorKind::kInsufficientBalance,
          "wallet holds " + std::to_string(net_->balance_) + ", needs " + std::to_string(cost));
    }
    net_->balance_ -= cost;
    SimDestPayment record{payment.tx_id, payment.swap_id, payment.amount,
                          net_->height_, BlockHeight(),   false};
    if (const Swap* live = net_->live_swap(payment.swap_id)) {
      record.timeout_at_send = live->timeout_block;
      record.swap_live_at_send = true;
    } else if (auto gone = net_->outcomes_.find(payment.swap_id); gone != net_->outcomes_.end()) {
      record.timeout_at_send = gone->second.timeout_block;
    }
    net_->dest_by_tx_[payment.tx_id] = net_->payments_.size();
    net_->payments_.push_back(record);
    return Done{};
  }

  SimNetwork* net_;
};

// --- The world. ---

SimNetwork::SimNetwork(SimNetworkOptions options)
    : options_(options),
      rng_(options.seed),
      balance_(options.wallet_balance),
      contract_(std::make_unique<Contract>(*this)),
      source_(std::make_unique<Source>(*this)),
      wallet_(std::make_unique<Wallet>(*this)),
      blocks_(std::make_unique<Blocks>(*this)) {}

SimNetwork::~SimNetwork() = default;

SwapContract& SimNetwork::contract() {
  return *contract_;
}
SourceChain& SimNetwork::source() {
  return *source_;
}
DestinationWallet& SimNetwork::wallet() {
  return *wallet_;
}
BlockSource& SimNetwork::blocks() {
  return *blocks_;
}

std::optional<SimNetwork::PendingFault> SimNetwork::draw_fault(SimCall call, bool has_effect) {
  auto scripted = scripted_.find(call);
  if (scripted != scripted_.end() && !scripted->second.empty()) {
    PendingFault fault = scripted->second.front();
    scripted->second.pop_front();
    return fault;
  }
  if (!rng_.chance(options_.rpc_fault_rate)) return std::nullopt;
  const bool after_effect = has_effect && rng_.chance(options_.after_effect_share);
  if (after_effect)
    return PendingFault{rng_.chance(0.5) ? CallErrorKind::kRpcFailure : CallErrorKind::kTimeout,
                        true};
  // InsufficientBalance (the fee balance) only refuses calls that spend.
  static constexpr CallErrorKind kBeforeEffect[] = {
      CallErrorKind::kRpcFailure, CallErrorKind::kCallFailed, CallErrorKind::kTimeout,
      CallErrorKind::kInsufficientBalance};
  const uint64_t kinds = has_effect ? std::size(kBeforeEffect) : std::size(kBeforeEffect) - 1;
  return PendingFault{kBeforeEffect[rng_.below(kinds)], false};
}

void SimNetwork::fail_next(SimCall call, CallErrorKind kind, bool after_effect) {
  scripted_[call].push_back(PendingFault{kind, after_effect});
}

util::Result<Swap> SimNetwork::decode(const LiveSwap& live) const {
  auto status = parse_swap_status(live.wire_status);
  if (!status.is_ok()) return status.status().with_context(live.swap.id.to_string());
  Swap swap = live.swap;
  swap.status = status.value();
  return swap;
}

SwapId SimNetwork::create_swap(const SimSwapSpec& spec) {
  const SwapId id(next_swap_id_++);
  LiveSwap live;
  Swap& swap = live.swap;
  swap.id = id;
  swap.user = "user-" + std::to_string(id.value());
  swap.miner = spec.miner;
  swap.source_chain = "btc-sim";
  swap.dest_chain = "eth-sim";
  swap.source_amount = BaseUnits(spec.source_amount);
  swap.dest_amount = BaseUnits(spec.dest_amount);
  swap.user_source_address = "src-user-" + std::to_string(id.value());
  swap.user_dest_address = "dst-user-" + std::to_string(id.value());
  swap.miner_source_address = "src-" + spec.miner;
  swap.miner_dest_address = "dst-" + spec.miner;
  swap.rate = ExchangeRate{spec.dest_amount, spec.source_amount};
  swap.source_tx_hash = derive_hash("source-tx", id.value(), height_.value());
  swap.source_tx_block = height_;
  swap.status = SwapStatus::kActive;
  swap.initiated_block = height_;
  swap.timeout_block = BlockHeight(height_.value() + spec.timeout_after_blocks);
  source_payments_[swap.source_tx_hash] =
      SourcePayment{swap.miner_source_address, swap.source_amount, height_, false};
  live_.emplace(id, std::move(live));
  return id;
}

const Swap* SimNetwork::live_swap(SwapId id) const {
  auto it = live_.find(id);
  return it == live_.end() ? nullptr : &it->second.swap;
}

size_t SimNetwork::payments_for(SwapId id) const {
  return static_cast<size_t>(
      std::count_if(payments_.begin(), payments_.end(),
                    [id](const SimDestPayment& p) { return p.swap_id == id; }));
}

bool SimNetwork::source_payment_valid(const LiveSwap& live) const {
  auto it = source_payments_.find(live.swap.source_tx_hash);
  return it != source_payments_.end() && !it->second.reorged_out;
}

bool SimNetwork::dest_payment_valid(const LiveSwap& live) const {
  if (!live.swap.dest_tx_hash) return false;
  auto it = dest_by_tx_.find(*live.swap.dest_tx_hash);
  if (it == dest_by_tx_.end()) return false;
  const SimDestPayment& payment = payments_[it->second];
  return payment.swap_id == live.swap.id && payment.amount >= live.swap.dest_amount;
}

void SimNetwork::finish_swap(std::map<SwapId, LiveSwap>::iterator it, SwapStatus final_status) {
  outcomes_[it->first] =
      SimSwapOutcome{final_status, it->second.marked, it->second.swap.timeout_block, height_};
}

void SimNetwork::step_swap(std::map<SwapId, LiveSwap>::iterator& it) {
  LiveSwap& live = it->second;
  const bool fulfilled = live.marked && live.swap.status == SwapStatus::kFulfilled;
  if (fulfilled && height_ >= live.complete_at && source_payment_valid(live) &&
      dest_payment_valid(live)) {
    finish_swap(it, SwapStatus::kCompleted);
    it = live_.erase(it);
    return;
  }
  const int64_t blocks_left = live.swap.timeout_block.blocks_after(height_);
  if (fulfilled && blocks_left <= 1 && live.extensions < kSimMaxTimeoutExtensions) {
    live.swap.timeout_block =
        BlockHeight(live.swap.timeout_block.value() + kSimTimeoutExtensionBlocks);
    ++live.extensions;
  } else if (blocks_left < 0 && rng_.chance(options_.timeout_keeper_probability)) {
    finish_swap(it, SwapStatus::kTimedOut);
    it = live_.erase(it);
    return;
  }
  ++it;
}

void SimNetwork::advance_block() {
  height_ = BlockHeight(height_.value() + 1);
  for (auto it = live_.begin(); it != live_.end();) step_swap(it);
}

void SimNetwork::reorg_source_payment(SwapId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  source_payments_[it->second.swap.source_tx_hash].reorged_out = true;
}

void SimNetwork::remove_swap(SwapId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  finish_swap(it, it->second.marked ? SwapStatus::kCompleted : SwapStatus::kTimedOut);
  live_.erase(it);
}

void SimNetwork::set_wire_status(SwapId id, uint64_t wire_status) {
  if (auto it = live_.find(id); it != live_.end()) it->second.wire_status = wire_status;
}

void SimNetwork::set_rate(SwapId id, ExchangeRate rate) {
  if (auto it = live_.find(id); it != live_.end()) it->second.swap.rate = rate;
}

void SimNetwork::set_swap_miner(SwapId id, const std::string& miner) {
  if (auto it = live_.find(id); it != live_.end()) it->second.swap.miner = miner;
}

void SimNetwork::extend_timeout(SwapId id, uint64_t blocks) {
  if (auto it = live_.find(id); it != live_.end()) {
    it->second.swap.timeout_block = BlockHeight(it->second.swap.timeout_block.value() + blocks);
  }
}

void SimNetwork::set_miner_active(const std::string& miner, bool active) {
  miner_inactive_[miner] = !active;
}

}  // namespace hashlock::swap
