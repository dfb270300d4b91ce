// The ChannelMonitor and ChainMonitor on their own: event ids, acks across
// restores, and events held while updates are in flight.
#include "ln/monitor.h"

#include <gtest/gtest.h>

#include "ln/chain_monitor.h"
#include "store/memory_store.h"

namespace hashlock::ln {
namespace {

const ChannelId kChannel(util::sha256(util::as_bytes("monitor test channel")));

PaymentPreimage preimage(int n) {
  return PaymentPreimage(util::sha256(util::as_bytes("p" + std::to_string(n))));
}

CommitmentHtlc our_htlc(uint64_t id, int n) {
  return CommitmentHtlc{
      .offered_by_holder = false,
      .id = HtlcId(id),
      .amount = AmountMsat(1000 + id),
      .payment_hash = preimage(n).payment_hash(),
      .cltv_expiry = 100,
      .source = OutboundRoute{PaymentId(util::sha256(util::as_bytes("pay" + std::to_string(n)))), 0,
                              AmountMsat(1000 + id), AmountMsat(0)}};
}

// Update `id` that offers our HTLCs in the counterparty's commitment `number`.
ChannelMonitorUpdate offer(uint64_t id, uint64_t number, std::vector<CommitmentHtlc> htlcs) {
  return ChannelMonitorUpdate{
      kChannel, id, {LatestCounterpartyCommitment{number, std::move(htlcs)}}};
}

ChannelMonitorUpdate claim(uint64_t id, uint64_t number, uint64_t htlc, int n) {
  LatestHolderCommitment holder{.commitment_number = number};
  holder.claimed_htlcs.push_back(ClaimedHtlc{HtlcId(htlc), preimage(n), AmountMsat(0)});
  return ChannelMonitorUpdate{kChannel, id, {holder}};
}

ChannelMonitorUpdate fail(uint64_t id, uint64_t number, uint64_t htlc) {
  LatestHolderCommitment holder{.commitment_number = number};
  holder.failed_htlcs.push_back(
      FailedHtlc{HtlcId(htlc), FailureReason{FailureCode::kFeeInsufficient, 2, {}}});
  return ChannelMonitorUpdate{kChannel, id, {holder}};
}

ChannelMonitor fresh() {
  return ChannelMonitor::create(kChannel, NodeId(2), true, AmountMsat(1'000'000), AmountMsat(0));
}

TEST(ChannelMonitor, ClaimFromHolderCommitmentProducesOneEvent) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  ASSERT_TRUE(m.apply_update(claim(2, 1, 0, 0)).is_ok());
  ASSERT_EQ(m.pending_events().size(), 1u);
  const auto& event = std::get<HtlcEvent>(m.pending_events()[0].kind);
  EXPECT_EQ(std::get<ClaimedResolution>(event.resolution).preimage, preimage(0));
  // A second holder commitment repeating the claim adds nothing.
  ASSERT_TRUE(m.apply_update(claim(3, 2, 0, 0)).is_ok());
  EXPECT_EQ(m.pending_events().size(), 1u);
}

TEST(ChannelMonitor, FailComesOnlyWithTheRevocationAndCarriesTheStoredReason) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  ASSERT_TRUE(m.apply_update(fail(2, 1, 0)).is_ok());
  EXPECT_TRUE(m.pending_events().empty())
      << "a fail the counterparty can still undo is not an outcome yet";
  ASSERT_TRUE(m.apply_update(offer(3, 2, {})).is_ok());
  const Secret seed = util::sha256(util::as_bytes("their seed"));
  ASSERT_TRUE(
      m.apply_update(ChannelMonitorUpdate{
                         kChannel, 4, {CommitmentSecretStep{1, secret_for_commitment(seed, 1)}}})
          .is_ok());
  ASSERT_EQ(m.pending_events().size(), 1u);
  const auto& event = std::get<HtlcEvent>(m.pending_events()[0].kind);
  const auto& failed = std::get<FailedResolution>(event.resolution);
  EXPECT_EQ(failed.reason.code, FailureCode::kFeeInsufficient);
  EXPECT_EQ(failed.reason.failing_hop, 2u);
}

TEST(ChannelMonitor, ClaimAndFailAreNeverBothEmitted) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  ASSERT_TRUE(m.apply_update(claim(2, 1, 0, 0)).is_ok());
  ASSERT_TRUE(m.apply_update(offer(3, 2, {})).is_ok());
  const Secret seed = util::sha256(util::as_bytes("their seed"));
  ASSERT_TRUE(
      m.apply_update(ChannelMonitorUpdate{
                         kChannel, 4, {CommitmentSecretStep{1, secret_for_commitment(seed, 1)}}})
          .is_ok());
  ASSERT_EQ(m.pending_events().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ClaimedResolution>(
      std::get<HtlcEvent>(m.pending_events()[0].kind).resolution));
}

TEST(ChannelMonitor, UpdatesOutOfOrderAreRefusedAndChangeNothing) {
  ChannelMonitor m = fresh();
  const Bytes before = m.encode();
  util::Status skipped = m.apply_update(offer(2, 1, {our_htlc(0, 0)}));
  EXPECT_EQ(skipped.code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(skipped.message().find("out of order"), std::string::npos);
  EXPECT_EQ(m.encode(), before);
}

TEST(ChannelMonitor, ClaimWithAPreimageOfAnotherHashIsRefused) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  EXPECT_FALSE(m.apply_update(claim(2, 1, 0, 99)).is_ok());
  EXPECT_TRUE(m.pending_events().empty());
}

// Spec rule 5: after a restore from an older snapshot plus replayed updates
// the regenerated event has the same id, so the old ack removes exactly it,
// and a stale ack of another id can never remove a different event.
TEST(ChannelMonitor, EventIdsSurviveRestoreFromAnOlderSnapshotPlusReplay) {
  ChannelMonitor live = fresh();
  const std::vector<ChannelMonitorUpdate> updates = {offer(1, 1, {our_htlc(0, 0), our_htlc(1, 1)}),
                                                     claim(2, 1, 0, 0), claim(3, 2, 1, 1)};
  ASSERT_TRUE(live.apply_update(updates[0]).is_ok());
  const Bytes older_snapshot = live.encode();
  ASSERT_TRUE(live.apply_update(updates[1]).is_ok());
  ASSERT_TRUE(live.apply_update(updates[2]).is_ok());
  ASSERT_EQ(live.pending_events().size(), 2u);
  const uint64_t first = live.pending_events()[0].id;
  const uint64_t second = live.pending_events()[1].id;
  EXPECT_NE(first, second);
  live.ack_event(first);

  auto restored = ChannelMonitor::decode(older_snapshot);
  ASSERT_TRUE(restored.is_ok());
  ASSERT_TRUE(restored->apply_update(updates[1]).is_ok());
  ASSERT_TRUE(restored->apply_update(updates[2]).is_ok());
  ASSERT_EQ(restored->pending_events().size(), 2u);
  EXPECT_EQ(restored->pending_events()[0].id, first);
  EXPECT_EQ(restored->pending_events()[1].id, second);
  restored->ack_event(first);  // the ack record replayed after the updates
  ASSERT_EQ(restored->pending_events().size(), 1u);
  EXPECT_EQ(restored->pending_events()[0].id, second) << "the ack removed the right event";
  restored->ack_event(second + 1000);  // a stale ack of an id never issued
  EXPECT_EQ(restored->pending_events().size(), 1u);
}

TEST(ChannelMonitor, AckedEventIsNotRegeneratedByAReplayedUpdate) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  ASSERT_TRUE(m.apply_update(claim(2, 1, 0, 0)).is_ok());
  const uint64_t id = m.pending_events()[0].id;
  // The ack comes first (its record applied), then a replayed update repeats the claim.
  ChannelMonitor replay = fresh();
  ASSERT_TRUE(replay.apply_update(offer(1, 1, {our_htlc(0, 0)})).is_ok());
  replay.ack_event(id);
  ASSERT_TRUE(replay.apply_update(claim(2, 1, 0, 0)).is_ok());
  EXPECT_TRUE(replay.pending_events().empty());
}

TEST(ChannelMonitor, SnapshotRoundTripsEverything) {
  ChannelMonitor m = fresh();
  ASSERT_TRUE(m.apply_update(offer(1, 1, {our_htlc(0, 0), our_htlc(1, 1)})).is_ok());
  ASSERT_TRUE(m.apply_update(claim(2, 1, 0, 0)).is_ok());
  ASSERT_TRUE(m.apply_update(fail(3, 2, 1)).is_ok());
  auto decoded = ChannelMonitor::decode(m.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->encode(), m.encode());
  EXPECT_EQ(decoded->pending_events(), m.pending_events());
}

// Spec rule 6: events of a monitor with updates in flight are held back.
TEST(ChainMonitor, HoldsEventsWhileUpdatesAreInFlight) {
  store::MemoryStore store;
  AsyncPersister persister(store);
  ChainMonitor chain(persister);
  persister.attach(&chain);
  ASSERT_EQ(chain.watch_channel(fresh()), UpdateStatus::kCompleted);
  ASSERT_EQ(chain.update_channel(offer(1, 1, {our_htlc(0, 0)})), UpdateStatus::kInProgress);
  ASSERT_EQ(chain.update_channel(claim(2, 1, 0, 0)), UpdateStatus::kInProgress);
  EXPECT_TRUE(chain.release_pending_monitor_events().empty());
  ASSERT_TRUE(persister.complete(1).is_ok());  // out of order: the later one first
  EXPECT_TRUE(chain.release_pending_monitor_events().empty()) << "update 1 is still not durable";
  EXPECT_TRUE(chain.take_completed().empty());
  ASSERT_TRUE(persister.complete(0).is_ok());
  EXPECT_EQ(chain.take_completed().size(), 1u);
  const auto released = chain.release_pending_monitor_events();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_TRUE(chain.release_pending_monitor_events().empty()) << "released once per process run";
  ASSERT_TRUE(chain.ack_monitor_event(released[0].source).is_ok());
  EXPECT_EQ(chain.unacked_events(), 0u);
}

TEST(ChainMonitor, UnackedEventsReplayAfterRestartFromTheStore) {
  store::MemoryStore store;
  MonitorEventSource source;
  {
    StorePersister persister(store, 2);  // snapshot every 2 updates
    ChainMonitor chain(persister);
    ASSERT_EQ(chain.watch_channel(fresh()), UpdateStatus::kCompleted);
    ASSERT_EQ(chain.update_channel(offer(1, 1, {our_htlc(0, 0), our_htlc(1, 1)})),
              UpdateStatus::kCompleted);
    ASSERT_EQ(chain.update_channel(claim(2, 1, 0, 0)), UpdateStatus::kCompleted);
    ASSERT_EQ(chain.update_channel(claim(3, 2, 1, 1)), UpdateStatus::kCompleted);
    const auto released = chain.release_pending_monitor_events();
    ASSERT_EQ(released.size(), 2u);
    source = released[0].source;
    ASSERT_TRUE(chain.ack_monitor_event(source).is_ok());
  }
  store.crash();
  StorePersister persister(store);
  auto monitors = persister.load();
  ASSERT_TRUE(monitors.is_ok()) << monitors.status().to_string();
  ChainMonitor chain(persister);
  chain.restore(std::move(monitors).value());
  const auto released = chain.release_pending_monitor_events();
  ASSERT_EQ(released.size(), 1u) << "the un-acked event replays, the acked one does not";
  EXPECT_NE(released[0].source, source);
}

TEST(ChainMonitor, CorruptUpdateRecordIsCorruptionNamingTheKey) {
  store::MemoryStore store;
  {
    StorePersister persister(store);
    ChainMonitor chain(persister);
    ASSERT_EQ(chain.watch_channel(fresh()), UpdateStatus::kCompleted);
    ASSERT_EQ(chain.update_channel(offer(1, 1, {our_htlc(0, 0)})), UpdateStatus::kCompleted);
  }
  auto records = store.list("monitor_updates");
  ASSERT_TRUE(records.is_ok());
  ASSERT_EQ(records->size(), 1u);
  ASSERT_TRUE(store.corrupt_bit("monitor_updates", (*records)[0].key, 60).is_ok());
  StorePersister persister(store);
  auto monitors = persister.load();
  ASSERT_FALSE(monitors.is_ok());
  EXPECT_EQ(monitors.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(monitors.status().message().find("monitor_updates/"), std::string::npos);
}

TEST(MonitorUpdateRecord, CommitmentStepsWrittenAgainstTheirBaseReadBackOnlyWithIt) {
  std::vector<CommitmentHtlc> holder_base, counterparty_base;
  for (uint64_t id = 0; id < 40; ++id) {
    holder_base.push_back(our_htlc(id, static_cast<int>(id)));
    counterparty_base.push_back(our_htlc(id, static_cast<int>(id)));
  }
  // The holder commitment loses two HTLCs and gains one; the counterparty
  // commitment gains one; a second counterparty step is written against the first.
  LatestHolderCommitment holder{.commitment_number = 9};
  holder.htlcs = holder_base;
  holder.htlcs.erase(holder.htlcs.begin() + 3);
  holder.htlcs.erase(holder.htlcs.begin() + 10);
  holder.htlcs.push_back(our_htlc(40, 40));
  LatestCounterpartyCommitment first{10, counterparty_base};
  first.htlcs.push_back(our_htlc(41, 41));
  LatestCounterpartyCommitment second{11, first.htlcs};
  second.htlcs.erase(second.htlcs.begin());
  const ChannelMonitorUpdate update{kChannel, 7, {holder, first, second}};
  const CommitmentBase base{.holder = &holder_base, .counterparty = &counterparty_base};

  const Bytes against_base = encode_update(update, base);
  const Bytes in_full = encode_update(update);
  EXPECT_LT(against_base.size() * 4, in_full.size());
  auto read = decode_update(against_base, base);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, update);
  // Without its base the record is refused, not read as an empty commitment.
  auto without = decode_update(against_base);
  ASSERT_FALSE(without.is_ok());
  EXPECT_EQ(without.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(without.status().message().find("against its base"), std::string::npos);
  // The full form reads with or without a base.
  EXPECT_EQ(decode_update(in_full).value(), update);
  EXPECT_EQ(decode_update(in_full, base).value(), update);
}

TEST(MonitorUpdateRecord, AListOutOfKeyOrderIsWrittenInFull) {
  std::vector<CommitmentHtlc> base_htlcs = {our_htlc(0, 0), our_htlc(1, 1), our_htlc(2, 2)};
  LatestHolderCommitment holder{.commitment_number = 2};
  holder.htlcs = {our_htlc(2, 2), our_htlc(0, 0), our_htlc(1, 1), our_htlc(3, 3)};
  const ChannelMonitorUpdate update{kChannel, 3, {holder}};
  const Bytes encoded = encode_update(update, CommitmentBase{.holder = &base_htlcs});
  // Readable without the base: the delta could not keep this order.
  auto read = decode_update(encoded);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, update);
}

TEST(MonitorUpdateRecord, PersisterReloadsDeltaRecordsOverASnapshot) {
  store::MemoryStore store;
  StorePersister persister(store, /*snapshot_every=*/1000);
  ChainMonitor chain_monitor(persister);
  ASSERT_EQ(chain_monitor.watch_channel(fresh()), UpdateStatus::kCompleted);
  std::vector<CommitmentHtlc> htlcs;
  for (uint64_t id = 0; id < 30; ++id) {
    htlcs.push_back(our_htlc(id, static_cast<int>(id)));
    ASSERT_EQ(chain_monitor.update_channel(offer(id + 1, id + 1, htlcs)), UpdateStatus::kCompleted);
  }
  auto records = store.list("monitor_updates");
  ASSERT_TRUE(records.is_ok());
  ASSERT_EQ(records->size(), 30u);
  // Each record holds the one HTLC it adds, not all before it.
  EXPECT_LT(records->back().value.size() * 5, encode_update(offer(30, 30, htlcs)).size());
  StorePersister reader(store);
  auto loaded = reader.load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().encode(), chain_monitor.get(kChannel)->encode());
}

TEST(MonitorUpdateRecord, SnapshotIsTakenOnceTheUpdateRecordsOutweighIt) {
  store::MemoryStore store;
  StorePersister persister(store, /*snapshot_every=*/100'000);
  ChainMonitor chain_monitor(persister);
  ASSERT_EQ(chain_monitor.watch_channel(fresh()), UpdateStatus::kCompleted);
  // Each update is a holder commitment with 40 new HTLCs in place of the
  // last 40 (written in full), so the records grow fast while the monitor
  // stays small. Far fewer updates than K; the records' bytes decide.
  uint64_t written = 0;
  uint64_t id = 0;
  while (written < 2 * kMinCompactionBytes) {
    std::vector<CommitmentHtlc> htlcs;
    for (int i = 0; i < 40; ++i) htlcs.push_back(our_htlc(id * 40 + static_cast<uint64_t>(i), i));
    ++id;
    LatestHolderCommitment holder{.commitment_number = id};
    holder.htlcs = std::move(htlcs);
    const ChannelMonitorUpdate update{kChannel, id, {holder}};
    written += encode_update(update, chain_monitor.get(kChannel)->commitment_base()).size();
    ASSERT_EQ(chain_monitor.update_channel(update), UpdateStatus::kCompleted);
  }
  auto records = store.list("monitor_updates");
  ASSERT_TRUE(records.is_ok());
  uint64_t left = 0;
  for (const store::Entry& record : *records) left += record.value.size();
  EXPECT_LT(records->size(), id) << "update records were compacted into a snapshot";
  auto snapshots = store.list("monitors");
  ASSERT_TRUE(snapshots.is_ok());
  ASSERT_EQ(snapshots->size(), 1u);
  EXPECT_LE(left, std::max<uint64_t>(snapshots->front().value.size(), kMinCompactionBytes) + 4096)
      << "what loading replays stays within about a snapshot's bytes";
  StorePersister reader(store);
  auto loaded = reader.load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->front().encode(), chain_monitor.get(kChannel)->encode());
}

}  // namespace
}  // namespace hashlock::ln
