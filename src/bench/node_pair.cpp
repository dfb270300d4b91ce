#include "bench/node_pair.h"

#include "store/open_store.h"
#include "util/hash.h"

namespace hashlock::bench {
namespace {

ln::NodeId node_id(size_t i) {
  return ln::NodeId(i + 1);
}

double elapsed_seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

store::StoreStats minus(const store::StoreStats& after, const store::StoreStats& before) {
  store::StoreStats out{.batches_written = after.batches_written - before.batches_written,
                        .syncs = after.syncs - before.syncs,
                        .bytes_written = after.bytes_written - before.bytes_written,
                        .by_namespace = after.by_namespace};
  for (auto& [ns, space] : out.by_namespace) {
    auto earlier = before.by_namespace.find(ns);
    if (earlier == before.by_namespace.end()) continue;
    space.bytes -= earlier->second.bytes;
    space.puts -= earlier->second.puts;
    space.removes -= earlier->second.removes;
  }
  return out;
}

}  // namespace

util::Result<std::unique_ptr<NodePair>> NodePair::create(const std::string& sender_url,
                                                         const std::string& receiver_url) {
  return create_line({sender_url, receiver_url});
}

util::Result<std::unique_ptr<NodePair>> NodePair::create_line(
    const std::vector<std::string>& urls) {
  if (urls.size() < 2 || urls.size() > kMaxLineNodes)
    return util::invalid_argument("a benchmark line has two or three nodes");
  std::unique_ptr<NodePair> pair(new NodePair());
  pair->slots_.resize(urls.size());
  for (size_t i = 0; i < urls.size(); ++i) pair->slots_[i].url = urls[i];
  for (size_t i = 0; i < pair->slots_.size(); ++i) {
    HASHLOCK_ASSIGN_OR_RETURN(pair->slots_[i].store, store::open_store(pair->slots_[i].url));
    NodePair* self = pair.get();
    pair->network_.set_handler(node_id(i), [self, i](ln::NodeId from, const util::Bytes& message) {
      util::Status handled = self->slots_[i].node->manager().handle_message(from, message);
      if (!handled.is_ok() && self->delivery_error_.is_ok())
        self->delivery_error_ = handled.with_context("delivery");
    });
    HASHLOCK_RETURN_IF_ERROR(pair->start(i));
  }
  for (size_t i = 0; i + 1 < urls.size(); ++i) pair->network_.connect(node_id(i), node_id(i + 1));
  HASHLOCK_RETURN_IF_ERROR(pair->open_channels());
  return pair;
}

ln::NodeOptions NodePair::options_for(size_t i) const {
  ln::NodeOptions options;
  options.manager.node_id = node_id(i);
  options.manager.node_seed =
      util::sha256(util::as_bytes("hashlock bench node " + std::to_string(i)));
  options.manager.persistent_monitor_events = true;
  return options;
}

util::Status NodePair::start(size_t i) {
  HASHLOCK_ASSIGN_OR_RETURN(slots_[i].node,
                            ln::Node::start(options_for(i), *slots_[i].store, network_));
  return util::Status::ok();
}

util::Status NodePair::open_channels() {
  for (size_t i = 0; i + 1 < slots_.size(); ++i) {
    HASHLOCK_ASSIGN_OR_RETURN(
        ln::ChannelId id,
        node(i).manager().open_channel(node_id(i + 1), ln::AmountMsat(kChannelCapacityMsat),
                                       ln::AmountMsat(0)));
    channels_.push_back(id);
  }
  PaymentRun ignored;
  for (size_t round = 0; round < kMaxPumpsPerOpen; ++round) {
    HASHLOCK_ASSIGN_OR_RETURN(bool busy,
                              pump(SenderPolicy::kHandle, ReceiverPolicy::kClaim, ignored));
    if (!busy) break;
  }
  for (size_t i = 0; i < channels_.size(); ++i) {
    const ln::Channel* opened = node(i + 1).manager().channel(channels_[i]);
    if (opened == nullptr || !opened->is_open())
      return util::failed_precondition("a benchmark channel did not open");
  }
  return util::Status::ok();
}

util::Status NodePair::send_next(PaymentRun& run) {
  const std::string tag = std::to_string(next_payment_);
  const ln::PaymentPreimage preimage(
      util::sha256(util::as_bytes("hashlock bench preimage " + tag)));
  const ln::PaymentId id(util::sha256(util::as_bytes("hashlock bench payment " + tag)));
  util::Status sent;
  if (channels_.size() == 1) {
    sent = node(kSender).manager().send_payment(id, preimage.payment_hash(),
                                                ln::AmountMsat(kPaymentAmountMsat), channel());
  } else {
    std::vector<ln::RouteHop> route;
    for (const ln::ChannelId& hop : channels_) route.push_back(ln::RouteHop{hop, ln::FeePolicy{}});
    sent = node(kSender).manager().send_payment_route(id, preimage.payment_hash(),
                                                      ln::AmountMsat(kPaymentAmountMsat), route);
  }
  if (!sent.is_ok()) return sent;
  preimages_[preimage.payment_hash()] = preimage;
  ++next_payment_;
  ++run.sent;
  return util::Status::ok();
}

uint64_t NodePair::resolved(SenderPolicy sender, const PaymentRun& run) {
  switch (sender) {
    case SenderPolicy::kHandle:
      return run.settled + run.failed;
    case SenderPolicy::kLeaveUnhandled:
      return node(kSender).chain_monitor().unacked_events() - unacked_at_start_;
  }
  return 0;
}

void NodePair::begin_rounds() {
  for (Slot& slot : slots_) slot.node->manager().begin_round();
}

util::Status NodePair::end_rounds() {
  util::Status status;
  for (Slot& slot : slots_) {
    util::Status ended = slot.node->manager().end_round();
    if (status.is_ok()) status = ended;
  }
  return status;
}

util::Result<bool> NodePair::pump(SenderPolicy sender, ReceiverPolicy receiver, PaymentRun& run) {
  begin_rounds();
  util::Result<bool> busy = pump_in_round(sender, receiver, run);
  util::Status ended = end_rounds();
  if (busy.is_ok() && !ended.is_ok()) return ended;
  return busy;
}

util::Result<bool> NodePair::pump_in_round(SenderPolicy sender, ReceiverPolicy receiver,
                                           PaymentRun& run) {
  const size_t delivered = network_.deliver_all(kMaxDeliveriesPerPump);
  run.messages += delivered;
  HASHLOCK_RETURN_IF_ERROR(delivery_error_);
  uint64_t handled = 0;
  HASHLOCK_RETURN_IF_ERROR(
      node(kSender).manager().process_pending_events([&](const ln::Event& event) {
        if (sender == SenderPolicy::kLeaveUnhandled) return ln::HandleResult::kReplay;
        ++handled;
        if (std::holds_alternative<ln::PaymentSent>(event)) ++run.settled;
        if (std::holds_alternative<ln::PaymentFailed>(event)) ++run.failed;
        return ln::HandleResult::kHandled;
      }));
  for (size_t i = 1; i < receiver_index(); ++i) {
    HASHLOCK_RETURN_IF_ERROR(node(i).manager().process_pending_events([&](const ln::Event& event) {
      ++handled;
      if (std::holds_alternative<ln::PaymentForwarded>(event)) ++run.forwarded;
      return ln::HandleResult::kHandled;
    }));
  }
  HASHLOCK_RETURN_IF_ERROR(
      node(receiver_index()).manager().process_pending_events([&](const ln::Event& event) {
        ++handled;
        if (const auto* claimable = std::get_if<ln::PaymentClaimable>(&event)) {
          if (receiver == ReceiverPolicy::kClaim) to_claim_.push_back(claimable->payment_hash);
          if (receiver == ReceiverPolicy::kHold) ++held_claimables_;
        }
        return ln::HandleResult::kHandled;
      }));
  for (const ln::PaymentHash& hash : to_claim_) {
    auto preimage = preimages_.find(hash);
    if (preimage == preimages_.end())
      return util::failed_precondition("claimable payment the benchmark did not send");
    HASHLOCK_RETURN_IF_ERROR(node(receiver_index()).manager().claim_funds(preimage->second));
    preimages_.erase(preimage);
  }
  const bool claimed = !to_claim_.empty();
  to_claim_.clear();
  return delivered > 0 || handled > 0 || claimed;
}

util::Result<PaymentRun> NodePair::run_payments(uint64_t count, uint64_t inflight,
                                                SenderPolicy sender, ReceiverPolicy receiver,
                                                Clock::time_point deadline) {
  PaymentRun run;
  std::vector<store::StoreStats> before;
  for (Slot& slot : slots_) before.push_back(slot.store->stats());
  unacked_at_start_ = node(kSender).chain_monitor().unacked_events();
  const Clock::time_point started = Clock::now();
  // Each round sends at least one payment or moves at least one message or
  // event; a round that does neither means the pair is stuck.
  const uint64_t max_rounds = count * 16 + kMaxPumpsPerOpen;
  bool all_sent_and_quiet = false;
  for (uint64_t round = 0; round < max_rounds && !all_sent_and_quiet; ++round) {
    if (Clock::now() >= deadline) {
      run.hit_deadline = true;
      break;
    }
    const uint64_t before_sends = run.sent;
    util::Status refused;
    // One round per node: the sends and everything the pump does go to each
    // store as one group commit.
    begin_rounds();
    while (run.sent < count && run.sent - resolved(sender, run) < inflight) {
      refused = send_next(run);
      if (!refused.is_ok()) break;  // the channel is full: wait for removals
    }
    util::Result<bool> pumped = pump_in_round(sender, receiver, run);
    HASHLOCK_RETURN_IF_ERROR(end_rounds());
    HASHLOCK_ASSIGN_OR_RETURN(bool busy, std::move(pumped));
    if (!busy && run.sent == before_sends) {
      all_sent_and_quiet = run.sent == count;
      if (!all_sent_and_quiet) {
        return util::failed_precondition(
            "the benchmark pair stopped making progress (last refusal: " + refused.to_string() +
            ")");
      }
    }
    if (receiver == ReceiverPolicy::kClaim && resolved(sender, run) == count)
      all_sent_and_quiet = true;
  }
  run.seconds = elapsed_seconds(started);
  if (sender == SenderPolicy::kLeaveUnhandled) run.settled = resolved(sender, run);
  run.sender_stats = minus(store(kSender).stats(), before[kSender]);
  run.receiver_stats = minus(store(receiver_index()).stats(), before[receiver_index()]);
  for (size_t i = 1; i < receiver_index(); ++i) {
    const store::StoreStats forwarder = minus(store(i).stats(), before[i]);
    run.forwarder_stats.batches_written += forwarder.batches_written;
    run.forwarder_stats.syncs += forwarder.syncs;
    run.forwarder_stats.bytes_written += forwarder.bytes_written;
  }
  return run;
}

util::Status NodePair::settle(SenderPolicy sender, ReceiverPolicy receiver,
                              Clock::time_point deadline) {
  PaymentRun ignored;
  for (size_t round = 0; round < kMaxPumpsPerOpen; ++round) {
    if (Clock::now() >= deadline)
      return util::unavailable("the benchmark pair did not settle before its deadline");
    HASHLOCK_ASSIGN_OR_RETURN(bool busy, pump(sender, receiver, ignored));
    if (!busy) return util::Status::ok();
  }
  return util::unavailable("the benchmark pair did not settle within its round limit");
}

util::Result<double> NodePair::restart(size_t i) {
  Slot& slot = slots_[i];
  slot.node.reset();
  slot.store.reset();
  HASHLOCK_ASSIGN_OR_RETURN(slot.store, store::open_store(slot.url));
  const Clock::time_point started = Clock::now();
  HASHLOCK_RETURN_IF_ERROR(start(i));
  return elapsed_seconds(started) * 1000.0;
}

util::Status NodePair::move_store(size_t i, const std::string& url) {
  Slot& slot = slots_[i];
  slot.node.reset();
  HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<store::KVStore> target, store::open_store(url));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<std::string> namespaces, slot.store->list_namespaces());
  for (const std::string& ns : namespaces) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> entries, slot.store->list(ns));
    store::WriteBatch batch;
    for (store::Entry& entry : entries) {
      batch.put(ns, entry.key, std::move(entry.value));
      if (batch.ops().size() >= kMaxCopyBatchRecords) {
        HASHLOCK_RETURN_IF_ERROR(target->write(batch, store::Durability::kSynced));
        batch.clear();
      }
    }
    if (!batch.empty()) HASHLOCK_RETURN_IF_ERROR(target->write(batch, store::Durability::kSynced));
  }
  target.reset();
  slot.store.reset();
  slot.url = url;
  return util::Status::ok();
}

util::Status NodePair::release_events_unhandled(size_t i) {
  return node(i).manager().process_pending_events(
      [](const ln::Event&) { return ln::HandleResult::kReplay; });
}

}  // namespace hashlock::bench
