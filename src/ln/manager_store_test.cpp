// The channel manager's records: each record type round-trips and refuses
// truncation, damage, another type and an unknown version with a clear
// error; a store of the older single-record form is refused; change tracking
// marks what non-const access reaches; and through real workloads (forwards,
// claims and fails, crashes, a stale snapshot) the store holds, after every
// step, exactly the records of the manager's state in memory.
#include "ln/manager_store.h"

#include <gtest/gtest.h>

#include <tuple>

#include <functional>
#include <utility>

#include "codec/record.h"
#include "ln/harness.h"
#include "ln/manager.h"
#include "ln/persister.h"
#include "ln/test_modes.h"

namespace hashlock::ln {
namespace {

ChannelId channel_of(uint64_t n) {
  return ChannelId(util::sha256(util::as_bytes("store channel " + std::to_string(n))));
}
PaymentHash hash_of(uint64_t n) {
  return PaymentHash(util::sha256(util::as_bytes("store hash " + std::to_string(n))));
}

PendingForward sample_forward() {
  PendingForward f;
  f.in_channel = channel_of(1);
  f.htlc.id = HtlcId(7);
  f.htlc.amount = AmountMsat(5000);
  f.htlc.payment_hash = hash_of(1);
  f.htlc.cltv_expiry = 700;
  f.htlc.onion = Bytes{1, 2, 3, 4};
  f.htlc.skimmed_fee = AmountMsat(3);
  return f;
}

ManagerNode sample_node() {
  return ManagerNode{NodeId(3), true, 12, 2, 9, {sample_forward()}, 7};
}

ClaimablePayment sample_claimable() {
  ClaimablePayment c;
  c.total = AmountMsat(9000);
  c.htlcs = {ClaimableHtlc{channel_of(1), HtlcId(1), AmountMsat(4000), true, AmountMsat(0)},
             ClaimableHtlc{channel_of(2), HtlcId(4), AmountMsat(5000), false, AmountMsat(10)}};
  c.state = ClaimState::kClaimed;
  c.hop_index = 2;
  c.first_tick = 5;
  c.preimage = PaymentPreimage(util::sha256(util::as_bytes("preimage")));
  return c;
}

ForwardAck sample_ack() {
  return ForwardAck{MonitorEventSource{channel_of(2), 99}, 14, true, false};
}

QueuedEvent sample_event() {
  return QueuedEvent{11,
                     PaymentSent{PaymentId(util::sha256(util::as_bytes("id"))), hash_of(2),
                                 PaymentPreimage(util::sha256(util::as_bytes("p"))), AmountMsat(10),
                                 AmountMsat(1)},
                     {MonitorEventSource{channel_of(1), 3}},
                     {HtlcRelease{channel_of(1), HtlcId(2)}}};
}

OutboundPayment sample_payment() {
  OutboundPayment p;
  p.payment_hash = hash_of(3);
  p.amount = AmountMsat(3000);
  p.parts.push_back(
      PaymentPart{.part_id = 0, .amount = AmountMsat(3000), .route = {channel_of(1)}});
  return p;
}

Channel sample_channel() {
  return Channel::open(channel_of(5), NodeId(2), AmountMsat(1'000'000), AmountMsat(0),
                       ChannelConfig{}, Secret(util::sha256(util::as_bytes("seed"))))
      .first;
}

// One encoded sample of every record type, and a check that its decoding works.
struct Sample {
  const char* name;
  Bytes encoded;
  std::function<util::Status(ByteView)> decode;
};

template <typename T>
util::Status status_of(const util::Result<T>& result) {
  return result.is_ok() ? util::Status::ok() : result.status();
}

std::vector<Sample> samples() {
  const Channel channel = sample_channel();
  const std::deque<ChannelMonitorUpdate> in_flight = {ChannelMonitorUpdate{
      channel.id(), 1, {PaymentPreimageStep{PaymentPreimage(util::sha256(util::as_bytes("x")))}}}};
  return {
      {"manager node", encode_manager_node(sample_node()),
       [](ByteView b) { return status_of(decode_manager_node(b)); }},
      {"manager channel", encode_manager_channel(channel, in_flight),
       [](ByteView b) { return status_of(decode_manager_channel(b)); }},
      {"outbound payment",
       encode_payment_record(PaymentId(util::sha256(util::as_bytes("id"))), sample_payment()),
       [](ByteView b) { return status_of(decode_payment_record(b)); }},
      {"claimable payment", encode_claimable_record(hash_of(4), sample_claimable()),
       [](ByteView b) { return status_of(decode_claimable_record(b)); }},
      {"forward ack", encode_forward_ack_record({channel_of(3), 8}, sample_ack()),
       [](ByteView b) { return status_of(decode_forward_ack_record(b)); }},
      {"channel item",
       encode_channel_item(Channel::encode_base_item(
           Htlc{true, HtlcId(3), AmountMsat(9), hash_of(5), 40, Bytes{7, 7}, std::nullopt})),
       [](ByteView b) { return status_of(decode_channel_item(b)); }},
      {"queued user event", encode_event_record(sample_event()),
       [](ByteView b) { return status_of(decode_event_record(b)); }},
  };
}

TEST(ManagerRecords, EachRoundTrips) {
  auto node = decode_manager_node(encode_manager_node(sample_node()));
  ASSERT_TRUE(node.is_ok()) << node.status().to_string();
  EXPECT_EQ(node->node_id, NodeId(3));
  EXPECT_EQ(node->next_event_sequence, 12u);
  EXPECT_EQ(node->channels_opened, 2u);
  EXPECT_EQ(node->tick, 9u);
  ASSERT_EQ(node->pending_forwards.size(), 1u);
  EXPECT_EQ(node->pending_forwards[0].htlc.onion, sample_forward().htlc.onion);
  EXPECT_EQ(node->pending_forwards[0].htlc.skimmed_fee, AmountMsat(3));
  EXPECT_EQ(node->handled_count, std::optional<uint64_t>(7));
  // A node record of a build before the handled count reads as without one.
  ManagerNode without_count = sample_node();
  without_count.handled_count.reset();
  auto older = decode_manager_node(encode_manager_node(without_count));
  ASSERT_TRUE(older.is_ok()) << older.status().to_string();
  EXPECT_EQ(older->handled_count, std::nullopt);

  const Channel channel = sample_channel();
  const std::deque<ChannelMonitorUpdate> in_flight = {ChannelMonitorUpdate{channel.id(), 4, {}}};
  auto decoded_channel = decode_manager_channel(encode_manager_channel(channel, in_flight));
  ASSERT_TRUE(decoded_channel.is_ok()) << decoded_channel.status().to_string();
  EXPECT_EQ(decoded_channel->channel.encode(), channel.encode());
  EXPECT_EQ(decoded_channel->in_flight, in_flight);

  const PaymentId id(util::sha256(util::as_bytes("id")));
  auto payment = decode_payment_record(encode_payment_record(id, sample_payment()));
  ASSERT_TRUE(payment.is_ok()) << payment.status().to_string();
  EXPECT_EQ(payment->first, id);
  EXPECT_EQ(payment->second, sample_payment());

  auto claimable = decode_claimable_record(encode_claimable_record(hash_of(4), sample_claimable()));
  ASSERT_TRUE(claimable.is_ok()) << claimable.status().to_string();
  EXPECT_EQ(claimable->first, hash_of(4));
  EXPECT_EQ(claimable->second, sample_claimable());

  auto ack = decode_forward_ack_record(encode_forward_ack_record({channel_of(3), 8}, sample_ack()));
  ASSERT_TRUE(ack.is_ok()) << ack.status().to_string();
  EXPECT_EQ(ack->first, (ForwardKey{channel_of(3), 8}));
  EXPECT_EQ(ack->second, sample_ack());

  auto event = decode_event_record(encode_event_record(sample_event()));
  ASSERT_TRUE(event.is_ok()) << event.status().to_string();
  EXPECT_EQ(event->sequence, 11u);
  EXPECT_EQ(std::get<PaymentSent>(event->event), std::get<PaymentSent>(sample_event().event));
  EXPECT_EQ(event->ack_on_handled, sample_event().ack_on_handled);
  EXPECT_EQ(event->release_on_handled, sample_event().release_on_handled);
}

TEST(ManagerRecords, EveryTruncationIsRefusedAsCorruption) {
  for (const Sample& s : samples()) {
    ASSERT_TRUE(s.decode(s.encoded).is_ok()) << s.name;
    for (size_t n = 0; n < s.encoded.size(); ++n) {
      const util::Status status = s.decode(ByteView(s.encoded.data(), n));
      EXPECT_EQ(status.code(), util::StatusCode::kCorruption)
          << s.name << " cut to " << n << " bytes";
    }
  }
}

TEST(ManagerRecords, EveryFlippedByteIsRefusedWithTheRecordNamed) {
  for (const Sample& s : samples()) {
    for (size_t i = 0; i < s.encoded.size(); ++i) {
      Bytes damaged = s.encoded;
      damaged[i] ^= 0x5a;
      const util::Status status = s.decode(damaged);
      ASSERT_FALSE(status.is_ok()) << s.name << " with byte " << i << " flipped was accepted";
      EXPECT_NE(status.message().find(s.name), std::string::npos) << status.to_string();
    }
  }
}

TEST(ManagerRecords, AnotherRecordTypeIsRefused) {
  const std::vector<Sample> all = samples();
  for (size_t i = 0; i < all.size(); ++i) {
    const Sample& other = all[(i + 1) % all.size()];
    const util::Status status = all[i].decode(other.encoded);
    EXPECT_EQ(status.code(), util::StatusCode::kCorruption) << all[i].name;
    EXPECT_NE(status.message().find("expected record type"), std::string::npos)
        << status.to_string();
  }
}

TEST(ManagerRecords, AnUnknownVersionIsRefusedAsUnsupported) {
  for (const Sample& s : samples()) {
    auto type = codec::peek_record_type(s.encoded);
    ASSERT_TRUE(type.is_ok());
    // The header: u16 type, then u16 version.
    const auto current = static_cast<uint16_t>(s.encoded[2] << 8 | s.encoded[3]);
    const auto next = static_cast<uint16_t>(current + 1);
    const codec::RecordKind future{
        .type = *type, .min_version = next, .current_version = next, .name = s.name};
    auto opened = codec::open_record(
        codec::RecordKind{
            .type = *type, .min_version = 1, .current_version = current, .name = s.name},
        s.encoded);
    ASSERT_TRUE(opened.is_ok());
    codec::TlvWriter empty;
    const util::Status status = s.decode(codec::encode_record(future, empty));
    EXPECT_EQ(status.code(), util::StatusCode::kUnsupported)
        << s.name << ": " << status.to_string();
  }
}

TEST(ManagerRecords, UnknownClaimStateAndBadFlagsAreNamed) {
  ClaimablePayment c = sample_claimable();
  c.state = static_cast<ClaimState>(7);
  const util::Status status =
      status_of(decode_claimable_record(encode_claimable_record(hash_of(1), c)));
  EXPECT_EQ(status.code(), util::StatusCode::kCorruption);
  EXPECT_NE(status.message().find("claimable payment state 7"), std::string::npos)
      << status.to_string();
}

TEST(ManagerRecords, AChannelCoreIsNotReadAsAWholeChannel) {
  // The core counts HTLCs it does not hold; read as a channel record it
  // would lose them, so the plain decoder refuses it.
  const util::Status status = status_of(Channel::decode(sample_channel().encode_core()));
  EXPECT_EQ(status.code(), util::StatusCode::kUnsupported) << status.to_string();
  EXPECT_NE(status.message().find("unknown required (even) field 1000"), std::string::npos)
      << status.to_string();
}

TEST(ManagerRecords, ChannelItemKeysListByChannelKindAndIndex) {
  const std::string a = channel_item_key(channel_of(1), ChannelItemKind::kOurLog, 255);
  const std::string b = channel_item_key(channel_of(1), ChannelItemKind::kOurLog, 256);
  const std::string c = channel_item_key(channel_of(1), ChannelItemKind::kTheirLog, 0);
  EXPECT_EQ(a.size(), 41u);
  EXPECT_EQ(a.substr(0, 32), channel_items_prefix(channel_of(1)));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(ManagerRecords, EventKeysListInSequenceOrder) {
  EXPECT_EQ(event_record_key(0), "0000000000000000");
  EXPECT_EQ(event_record_key(255), "00000000000000ff");
  EXPECT_LT(event_record_key(9), event_record_key(10));
  EXPECT_LT(event_record_key(0xffff), event_record_key(0x10000));
}

TEST(TrackedMap, ConstAccessMarksNothingAndMutableAccessMarksWhatItReaches) {
  TrackedMap<int, int> map;
  map.load(1, 10);
  map.load(2, 20);
  map.load(3, 30);
  std::vector<int> added_and_dropped;
  auto changes = [&] {
    std::vector<std::pair<int, bool>> out;  // (key, still there)
    added_and_dropped.clear();
    map.for_each_change([&](int key, const int* value, bool existed) {
      out.emplace_back(key, value != nullptr);
      if (value == nullptr && !existed) added_and_dropped.push_back(key);
    });
    return out;
  };
  EXPECT_TRUE(changes().empty()) << "loading marks nothing";
  const auto& view = std::as_const(map);
  EXPECT_EQ(view.find(2)->second, 20);
  for (const auto& [key, value] : view) EXPECT_GT(value, 0);
  EXPECT_TRUE(changes().empty()) << "reading through a const view marks nothing";

  map.find(2)->second = 21;
  map.find(7);  // absent: nothing to write or remove
  map[4] = 40;
  map.erase(1);
  EXPECT_EQ(changes(), (std::vector<std::pair<int, bool>>{{1, false}, {2, true}, {4, true}}));

  EXPECT_TRUE(added_and_dropped.empty()) << "1 was loaded, so the store has it";
  map.erase(9);  // absent: nothing to remove
  map[5] = 50;
  map.erase(5);  // added and dropped since the last forget_changes
  map.erase(4);  // added before, dropped now
  EXPECT_EQ(changes(), (std::vector<std::pair<int, bool>>{
                           {1, false}, {2, true}, {4, false}, {5, false}}));
  EXPECT_EQ(added_and_dropped, (std::vector<int>{4, 5}))
      << "4 was added in the same epoch too, so neither was there when first marked";

  map.forget_changes();
  map.erase(3);
  map[3] = 31;  // dropped and added back: there when first marked
  EXPECT_EQ(changes(), (std::vector<std::pair<int, bool>>{{3, true}}));
  map.forget_changes();
  for (auto& [key, value] : map) value += 1;  // a mutable iteration may change any
  EXPECT_EQ(changes(), (std::vector<std::pair<int, bool>>{{2, true}, {3, true}}));
}

TEST(TrackedEvents, PushPopAndEraseMarkTheirSequences) {
  TrackedEvents events;
  QueuedEvent a = sample_event();
  a.sequence = 1;
  events.load(a);
  QueuedEvent b = sample_event();
  b.sequence = 2;
  events.push_back(b);
  events.pop_front();
  QueuedEvent c = sample_event();
  c.sequence = 3;
  events.push_back(c);
  events.erase(std::next(events.begin()));  // queued and handled at once
  std::vector<std::tuple<uint64_t, bool, bool>> seen;  // (sequence, still there, was there)
  events.for_each_change([&](uint64_t sequence, const QueuedEvent* e, bool existed) {
    seen.emplace_back(sequence, e != nullptr, existed);
  });
  EXPECT_EQ(seen, (std::vector<std::tuple<uint64_t, bool, bool>>{
                      {1, false, true}, {2, true, false}, {3, false, false}}));
}

// --- through the engine ---------------------------------------------------------------

using test_modes::Mode;
using test_modes::mode_name;

constexpr uint64_t kCapacity = 100'000'000;

void expect_records_match(LnHarness& h, const std::string& when) {
  for (size_t i = 0; i < h.size(); ++i) {
    const util::Status status = h.node(i).manager().verify_records();
    ASSERT_TRUE(status.is_ok()) << "node " << i << " " << when << ": " << status.to_string();
  }
}

std::vector<uint64_t> monitor_update_ids(LnHarness& h, size_t i) {
  std::vector<uint64_t> ids;
  for (const ChannelId& id : h.node(i).manager().channel_ids()) {
    const ChannelMonitor* monitor = h.node(i).chain_monitor().get(id);
    ids.push_back(monitor == nullptr ? 0 : monitor->latest_update_id());
  }
  return ids;
}

class ManagerRecordsThroughTheEngine : public ::testing::TestWithParam<Mode> {
 protected:
  HarnessOptions options(uint64_t seed) const {
    return HarnessOptions{.persistent_monitor_events = GetParam().persistent,
                          .async_persistence = GetParam().async,
                          .seed = seed};
  }
};

// Forwards claimed and failed over A -> B -> C, with crashes of each node
// and a stale snapshot of the forwarder restored, checking the records after
// every step.
TEST_P(ManagerRecordsThroughTheEngine, StoreHoldsExactlyTheStateAfterEveryStep) {
  LnHarness h(3, options(5));
  const ChannelId ab = h.open_channel(0, 1, AmountMsat(kCapacity));
  const ChannelId bc = h.open_channel(1, 2, AmountMsat(kCapacity));
  expect_records_match(h, "after opening");
  size_t stale_restores = 0;
  size_t steps = 0;
  for (int n = 0; n < 12; ++n) {
    const PaymentPreimage preimage = test_modes::preimage_for("records ", n);
    h.expect_payment(preimage, n % 3 != 2);
    const std::vector<RouteHop> route = {RouteHop{ab, FeePolicy{}}, RouteHop{bc, FeePolicy{}}};
    ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
                   return m.send_payment_route(test_modes::payment_id_for("records ", n),
                                               preimage.payment_hash(), AmountMsat(20'000 + n),
                                               route);
                 }).is_ok());
    for (int s = 0; s < 3 + n % 4 && h.step(); ++s) {
      expect_records_match(h, "at step " + std::to_string(++steps));
      if (HasFailure()) return;
    }
    if (n == 4) h.crash(1);
    if (n == 7) h.crash(0);
    if (n == 9) h.crash(2);
    if (n == 5 || n == 8) {
      // As the simulator does: the forwarder handles a few events after the
      // snapshot, which is restored if its monitors have not moved.
      auto snapshot = snapshot_manager_records(h.kv(1));
      ASSERT_TRUE(snapshot.is_ok());
      const std::vector<uint64_t> before = monitor_update_ids(h, 1);
      for (int e = 0; e < 3; ++e) h.process(1);
      if (monitor_update_ids(h, 1) == before) {
        ASSERT_TRUE(restore_manager_records(h.kv(1), *snapshot).is_ok());
        h.crash(1);
        ++stale_restores;
      }
    }
    expect_records_match(h, "after payment " + std::to_string(n));
    if (HasFailure()) return;
  }
  while (h.step()) {
    expect_records_match(h, "at step " + std::to_string(++steps));
    if (HasFailure()) return;
  }
  ASSERT_TRUE(h.settle());
  expect_records_match(h, "settled");
  EXPECT_GT(stale_restores, 0u) << "the workload must restore a stale snapshot at least once";
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  // Settled: nothing is pending, so no payment, claimable, forward ack or
  // event record is left.
  for (size_t i = 0; i < h.size(); ++i) {
    for (const char* ns : {kManagerPaymentsNamespace, kManagerClaimableNamespace,
                           kManagerForwardAcksNamespace, kManagerEventsNamespace}) {
      auto left = h.kv(i).list(ns);
      ASSERT_TRUE(left.is_ok());
      EXPECT_TRUE(left->empty()) << "node " << i << " still has " << left->size() << " records in "
                                 << ns;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, ManagerRecordsThroughTheEngine,
                         ::testing::Values(Mode{true, false}, Mode{true, true}, Mode{false, false},
                                           Mode{false, true}),
                         mode_name);

TEST(ManagerRecordsLoad, TheOlderSingleRecordFormIsRefusedWithAClearError) {
  LnHarness h(2, HarnessOptions{});
  h.open_channel(0, 1, AmountMsat(kCapacity));
  ASSERT_TRUE(h.store(0).put(kManagerNamespace, kOldManagerStateKey, Bytes{1, 2, 3}).is_ok());
  store::MemoryStore& store = h.store(0);
  StorePersister persister(store);
  ChainMonitor monitors(persister);
  InProcessNetwork network;
  auto loaded =
      ChannelManager::load(ManagerConfig{.node_id = h.node_id(0)}, store, monitors, network);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), util::StatusCode::kUnsupported);
  EXPECT_NE(loaded.status().message().find("older build"), std::string::npos)
      << loaded.status().to_string();
}

TEST(ManagerRecordsLoad, ARecordUnderAnotherKeyOrDamagedIsRefusedNamingIt) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  store::MemoryStore& store = h.store(0);
  auto raw = store.get(kManagerChannelsNamespace, channel_record_key(channel));
  ASSERT_TRUE(raw.is_ok() && raw->has_value());
  StorePersister persister(store);
  ChainMonitor monitors(persister);
  InProcessNetwork network;
  const ManagerConfig config{.node_id = h.node_id(0)};

  ASSERT_TRUE(
      store.put(kManagerChannelsNamespace, channel_record_key(channel_of(77)), **raw).is_ok());
  auto moved = ChannelManager::load(config, store, monitors, network);
  ASSERT_FALSE(moved.is_ok());
  EXPECT_EQ(moved.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(moved.status().message().find(kManagerChannelsNamespace + std::string("/") +
                                          channel_of(77).to_hex()),
            std::string::npos)
      << moved.status().to_string();
  ASSERT_TRUE(store.remove(kManagerChannelsNamespace, channel_record_key(channel_of(77))).is_ok());

  Bytes damaged = **raw;
  damaged.resize(damaged.size() / 2);
  ASSERT_TRUE(store.put(kManagerChannelsNamespace, channel_record_key(channel), damaged).is_ok());
  auto cut = ChannelManager::load(config, store, monitors, network);
  ASSERT_FALSE(cut.is_ok());
  EXPECT_EQ(cut.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(cut.status().message().find("manager channel"), std::string::npos)
      << cut.status().to_string();
}

// A channel with HTLCs in its logs and base: losing or adding one of its
// item records is refused at load, naming the channel.
TEST(ManagerRecordsLoad, AMissingOrStrayChannelItemIsRefused) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  for (int n = 0; n < 3; ++n) {
    const PaymentPreimage preimage = test_modes::preimage_for("items ", n);
    h.expect_payment(preimage, true);
    ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
                   return m.send_payment(test_modes::payment_id_for("items ", n),
                                         preimage.payment_hash(), AmountMsat(10'000), channel);
                 }).is_ok());
  }
  for (int s = 0; s < 3; ++s) h.step();
  store::MemoryStore& store = h.store(0);
  auto items = store.list(kManagerChannelItemsNamespace, channel_items_prefix(channel));
  ASSERT_TRUE(items.is_ok());
  ASSERT_GE(items->size(), 2u) << "the payments must be in the channel's logs or base";
  StorePersister persister(store);
  ChainMonitor monitors(persister);
  InProcessNetwork network;
  const ManagerConfig config{.node_id = h.node_id(0)};
  for (const store::Entry& item : *items) {
    ASSERT_TRUE(store.remove(kManagerChannelItemsNamespace, item.key).is_ok());
    auto loaded = ChannelManager::load(config, store, monitors, network);
    ASSERT_FALSE(loaded.is_ok()) << "a channel missing item " << store::printable_key(item.key)
                                 << " loaded";
    EXPECT_EQ(loaded.status().code(), util::StatusCode::kCorruption);
    EXPECT_NE(loaded.status().message().find(channel.to_hex()), std::string::npos)
        << loaded.status().to_string();
    ASSERT_TRUE(store.put(kManagerChannelItemsNamespace, item.key, item.value).is_ok());
  }
  const std::string stray = channel_item_key(channel, ChannelItemKind::kTheirLog, 1'000'000);
  ASSERT_TRUE(store.put(kManagerChannelItemsNamespace, stray, items->front().value).is_ok());
  auto loaded = ChannelManager::load(config, store, monitors, network);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), util::StatusCode::kCorruption) << loaded.status().to_string();
}

}  // namespace
}  // namespace hashlock::ln
