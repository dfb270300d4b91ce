// The channel state machine driven directly, two sides in one test, with
// messages passed through their encoding.
#include "ln/channel.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace hashlock::ln {
namespace {

struct Pair {
  Channel a;
  Channel b;
  std::vector<Message> a_to_b;
  std::vector<Message> b_to_a;
  std::vector<InboundHtlc> b_committed;
  std::vector<InboundHtlc> a_committed;
  std::vector<MonitorStep> a_steps;
  std::vector<MonitorStep> b_steps;
};

Secret seed(uint8_t b) {
  Secret s{};
  s.fill(b);
  return s;
}

Pair open_pair(uint64_t capacity = 10'000'000) {
  ChannelId id(util::sha256(util::as_bytes("pair")));
  auto [a, open] =
      Channel::open(id, NodeId(2), AmountMsat(capacity), AmountMsat(0), ChannelConfig{}, seed(1));
  auto accepted = Channel::accept(open, NodeId(1), ChannelConfig{}, seed(2));
  EXPECT_TRUE(accepted.is_ok());
  auto [b, accept] = std::move(accepted).value();
  EXPECT_TRUE(a.on_accept(accept).is_ok());
  return Pair{std::move(a), std::move(b), {}, {}, {}, {}, {}, {}};
}

util::Result<ChannelOutput> dispatch(Channel& c, const Message& raw) {
  // Through the wire encoding, as a peer would send it.
  auto decoded = decode_message(encode_message(raw));
  if (!decoded.is_ok()) return decoded.status();
  const Message& m = *decoded;
  if (auto* x = std::get_if<UpdateAddHtlc>(&m)) return c.on_update_add(*x);
  if (auto* x = std::get_if<UpdateFulfillHtlc>(&m)) return c.on_update_fulfill(*x);
  if (auto* x = std::get_if<UpdateFailHtlc>(&m)) return c.on_update_fail(*x);
  if (auto* x = std::get_if<CommitmentSigned>(&m)) return c.on_commitment_signed(*x);
  if (auto* x = std::get_if<RevokeAndAck>(&m)) return c.on_revoke_and_ack(*x);
  if (auto* x = std::get_if<ChannelReestablish>(&m)) return c.on_reestablish(*x);
  return util::unsupported("unexpected message " + message_name(m));
}

void take(ChannelOutput out, std::vector<Message>& to_peer, std::vector<InboundHtlc>& committed,
          std::vector<MonitorStep>& steps) {
  for (auto& m : out.messages) to_peer.push_back(std::move(m));
  for (auto& h : out.inbound_committed) committed.push_back(std::move(h));
  for (auto& s : out.steps) steps.push_back(std::move(s));
}

// Delivers everything in both directions until both sides are quiet.
void settle(Pair& p) {
  for (int round = 0; round < 100; ++round) {
    take(p.a.flush(false), p.a_to_b, p.b_committed, p.a_steps);
    take(p.b.flush(false), p.b_to_a, p.a_committed, p.b_steps);
    if (p.a_to_b.empty() && p.b_to_a.empty()) return;
    auto to_b = std::move(p.a_to_b);
    p.a_to_b.clear();
    for (const Message& m : to_b) {
      auto out = dispatch(p.b, m);
      ASSERT_TRUE(out.is_ok()) << out.status().to_string();
      take(std::move(out).value(), p.b_to_a, p.b_committed, p.b_steps);
    }
    auto to_a = std::move(p.b_to_a);
    p.b_to_a.clear();
    for (const Message& m : to_a) {
      auto out = dispatch(p.a, m);
      ASSERT_TRUE(out.is_ok()) << out.status().to_string();
      take(std::move(out).value(), p.a_to_b, p.a_committed, p.a_steps);
    }
  }
  FAIL() << "channel pair did not settle";
}

PaymentPreimage preimage(int n) {
  return PaymentPreimage(util::sha256(util::as_bytes("pre" + std::to_string(n))));
}
HtlcSource source(int n) {
  return OutboundRoute{PaymentId(util::sha256(util::as_bytes("pay" + std::to_string(n)))), 0,
                       AmountMsat(1000), AmountMsat(0)};
}

TEST(Channel, AddCommitFulfillMovesTheMoney) {
  Pair p = open_pair();
  HtlcId id;
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(1000), preimage(1).payment_hash(), 500, {}, source(1), &id).is_ok());
  settle(p);
  ASSERT_EQ(p.b_committed.size(), 1u);
  EXPECT_EQ(p.a.htlc_state(true, id), HtlcState::kCommitted);
  EXPECT_EQ(p.b.htlc_state(false, id), HtlcState::kCommitted);
  ASSERT_TRUE(*p.b.fulfill_htlc(id, preimage(1), AmountMsat(0)));
  settle(p);
  EXPECT_EQ(p.a.pending_htlcs(), 0u);
  EXPECT_EQ(p.b.pending_htlcs(), 0u);
  EXPECT_EQ(p.a.local_state().to_us, AmountMsat(10'000'000 - 1000));
  EXPECT_EQ(p.b.local_state().to_us, AmountMsat(1000));
  bool claimed = false;
  for (const MonitorStep& s : p.a_steps) {
    if (auto* h = std::get_if<LatestHolderCommitment>(&s)) claimed |= !h->claimed_htlcs.empty();
  }
  EXPECT_TRUE(claimed) << "A's holder commitment must show the claim";
}

TEST(Channel, ManyHtlcsGoInOneCommitmentRound) {
  Pair p = open_pair();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        p.a.send_htlc(AmountMsat(1000), preimage(i).payment_hash(), 500, {}, source(i), nullptr)
            .is_ok());
  }
  auto out = p.a.flush(false);
  size_t commitments = 0;
  for (const Message& m : out.messages)
    commitments += std::holds_alternative<CommitmentSigned>(m) ? 1 : 0;
  EXPECT_EQ(out.messages.size(), 21u);
  EXPECT_EQ(commitments, 1u);
}

TEST(Channel, FailRefundsTheOfferer) {
  Pair p = open_pair();
  HtlcId id;
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(5000), preimage(2).payment_hash(), 500, {}, source(2), &id).is_ok());
  settle(p);
  ASSERT_TRUE(*p.b.fail_htlc(id, FailureReason{FailureCode::kIncorrectPaymentDetails, 0, {}}));
  settle(p);
  EXPECT_EQ(p.a.local_state().to_us, AmountMsat(10'000'000));
  EXPECT_EQ(p.a.pending_htlcs(), 0u);
}

TEST(Channel, WrongPreimageIsAProtocolErrorAndChangesNothing) {
  Pair p = open_pair();
  HtlcId id;
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(1000), preimage(3).payment_hash(), 500, {}, source(3), &id).is_ok());
  settle(p);
  const Bytes before = p.a.encode();
  auto out = p.a.on_update_fulfill(UpdateFulfillHtlc{p.a.id(), id, preimage(99)});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), util::StatusCode::kProtocolError);
  EXPECT_NE(out.status().message().find("preimage does not match"), std::string::npos);
  EXPECT_EQ(p.a.encode(), before);
}

TEST(Channel, UnknownHtlcIdIsAProtocolError) {
  Pair p = open_pair();
  auto out = p.a.on_update_fail(UpdateFailHtlc{p.a.id(), HtlcId(42), FailureReason{}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("not committed"), std::string::npos);
}

TEST(Channel, HtlcOverTheLimitIsRefused) {
  Pair p = open_pair(5000);
  util::Status too_big =
      p.a.send_htlc(AmountMsat(6000), preimage(4).payment_hash(), 500, {}, source(4), nullptr);
  EXPECT_EQ(too_big.code(), util::StatusCode::kInvalidArgument);
  // The peer enforces the same limits on what it receives.
  auto out = p.b.on_update_add(
      UpdateAddHtlc{p.b.id(), HtlcId(0), AmountMsat(6000), preimage(4).payment_hash(), 500, {}});
  EXPECT_EQ(out.status().code(), util::StatusCode::kProtocolError);
}

TEST(Channel, OutOfOrderHtlcIdIsAProtocolError) {
  Pair p = open_pair();
  auto out = p.b.on_update_add(
      UpdateAddHtlc{p.b.id(), HtlcId(5), AmountMsat(100), preimage(5).payment_hash(), 500, {}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("expected 0"), std::string::npos);
}

TEST(Channel, WrongRevocationSecretIsRejected) {
  Pair p = open_pair();
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(1000), preimage(6).payment_hash(), 500, {}, source(6), nullptr)
          .is_ok());
  auto out = p.a.flush(false);
  for (const Message& m : out.messages) ASSERT_TRUE(dispatch(p.b, m).is_ok());
  auto bad = p.a.on_revoke_and_ack(RevokeAndAck{p.a.id(), 0, seed(9), seed(9)});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("wrong per-commitment secret"), std::string::npos);
}

TEST(Channel, SurvivesEncodeDecodeMidRound) {
  Pair p = open_pair();
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(1000), preimage(7).payment_hash(), 500, {}, source(7), nullptr)
          .is_ok());
  auto out = p.a.flush(false);
  auto decoded = Channel::decode(p.a.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->encode(), p.a.encode());
}

// The channel in parts (the manager's items): each HTLC one item from its
// add to its removal, each fulfill or fail one item at its log index; the
// layout of older builds (every log entry at its index, base HTLCs apart)
// reads the same.
Channel::Items items_of(const Channel& c, bool older_layout, std::vector<Bytes>& keep) {
  keep.clear();
  keep.reserve(2000);
  Channel::Items items;
  for (bool ours : {true, false}) {
    for (uint64_t i = c.log_begin(ours); i < c.log_end(ours); ++i) {
      const bool add = c.log_entry(ours, i).kind == UpdateKind::kAdd;
      if (add && !older_layout) {
        keep.push_back(c.encode_add_item(ours, i));
        (ours ? items.base_offered : items.base_received)
            .emplace_back(c.log_entry(ours, i).htlc_id.value(), keep.back());
        continue;
      }
      keep.push_back(c.encode_log_item(ours, i));
      (ours ? items.our_log : items.their_log).emplace_back(i, keep.back());
    }
  }
  for (const auto& [key, htlc] : c.base_htlcs()) {
    keep.push_back(Channel::encode_base_item(htlc));
    (key.first ? items.base_offered : items.base_received).emplace_back(key.second, keep.back());
  }
  for (auto* list : {&items.base_offered, &items.base_received}) {
    std::sort(list->begin(), list->end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
  }
  return items;
}

TEST(Channel, PartsReadBackInBothLayoutsAtEveryStep) {
  Pair p = open_pair();
  std::vector<Bytes> keep;
  auto check = [&](const char* when) {
    for (const Channel* c : {&p.a, &p.b}) {
      for (bool older : {false, true}) {
        auto decoded = Channel::decode_parts(c->encode_core(), items_of(*c, older, keep));
        ASSERT_TRUE(decoded.is_ok()) << when << ": " << decoded.status().to_string();
        EXPECT_EQ(decoded->encode(), c->encode()) << when << (older ? " (older layout)" : "");
      }
    }
  };
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(
        p.a.send_htlc(AmountMsat(1000), preimage(i).payment_hash(), 500, {}, source(i), nullptr)
            .is_ok());
  }
  check("adds queued");
  take(p.a.flush(false), p.a_to_b, p.b_committed, p.a_steps);
  check("adds in A's log");
  settle(p);
  check("adds folded into both bases");
  ASSERT_EQ(p.b_committed.size(), 6u);
  ASSERT_TRUE(*p.b.fulfill_htlc(p.b_committed[0].id, preimage(0), AmountMsat(0)));
  ASSERT_TRUE(*p.b.fail_htlc(p.b_committed[1].id, FailureReason{}));
  ASSERT_TRUE(
      p.a.send_htlc(AmountMsat(1000), preimage(9).payment_hash(), 500, {}, source(9), nullptr)
          .is_ok());
  take(p.b.flush(false), p.b_to_a, p.a_committed, p.b_steps);
  take(p.a.flush(false), p.a_to_b, p.b_committed, p.a_steps);
  check("removals and a new add in the logs, over a base");
  settle(p);
  check("settled");
  // A cut-down item list is refused, never read as a smaller channel.
  Channel::Items items = items_of(p.a, false, keep);
  ASSERT_FALSE(items.base_offered.empty());
  items.base_offered.pop_back();
  auto short_of_one = Channel::decode_parts(p.a.encode_core(), items);
  ASSERT_FALSE(short_of_one.is_ok());
  EXPECT_EQ(short_of_one.status().code(), util::StatusCode::kCorruption);
}

// Disconnect at every point of the commitment dance, then reestablish: the
// payment must still complete and both sides agree.
TEST(Channel, ReestablishAtEveryStepOfTheDance) {
  for (int cut = 0; cut < 12; ++cut) {
    SCOPED_TRACE("disconnect after message " + std::to_string(cut));
    Pair p = open_pair();
    HtlcId id;
    ASSERT_TRUE(p.a.send_htlc(AmountMsat(1000), preimage(8).payment_hash(), 500, {}, source(8), &id)
                    .is_ok());
    int delivered = 0;
    bool fulfilled = false;
    bool cut_done = false;
    for (int round = 0; round < 60; ++round) {
      if (!fulfilled && !p.b_committed.empty()) {
        ASSERT_TRUE(*p.b.fulfill_htlc(id, preimage(8), AmountMsat(0)));
        fulfilled = true;
      }
      take(p.a.flush(false), p.a_to_b, p.b_committed, p.a_steps);
      take(p.b.flush(false), p.b_to_a, p.a_committed, p.b_steps);
      if (p.a_to_b.empty() && p.b_to_a.empty() && fulfilled) break;
      // Deliver one message at a time, alternating directions.
      std::vector<Message>& queue = !p.a_to_b.empty() ? p.a_to_b : p.b_to_a;
      Channel& receiver = (&queue == &p.a_to_b) ? p.b : p.a;
      if (!cut_done && delivered == cut) {
        cut_done = true;
        p.a_to_b.clear();
        p.b_to_a.clear();
        p.a.on_disconnect();
        p.b.on_disconnect();
        auto ra = p.a.reestablish_message();
        auto rb = p.b.reestablish_message();
        auto out_a = p.a.on_reestablish(rb);
        auto out_b = p.b.on_reestablish(ra);
        ASSERT_TRUE(out_a.is_ok()) << out_a.status().to_string();
        ASSERT_TRUE(out_b.is_ok()) << out_b.status().to_string();
        take(std::move(out_a).value(), p.a_to_b, p.b_committed, p.a_steps);
        take(std::move(out_b).value(), p.b_to_a, p.a_committed, p.b_steps);
        continue;
      }
      if (queue.empty()) continue;
      Message m = queue.front();
      queue.erase(queue.begin());
      auto out = dispatch(receiver, m);
      ASSERT_TRUE(out.is_ok()) << message_name(m) << ": " << out.status().to_string();
      if (&receiver == &p.b) {
        take(std::move(out).value(), p.b_to_a, p.b_committed, p.b_steps);
      } else {
        take(std::move(out).value(), p.a_to_b, p.a_committed, p.a_steps);
      }
      ++delivered;
    }
    EXPECT_TRUE(fulfilled);
    EXPECT_EQ(p.a.pending_htlcs(), 0u);
    EXPECT_EQ(p.b.pending_htlcs(), 0u);
    EXPECT_EQ(p.a.local_state().to_us, AmountMsat(10'000'000 - 1000));
    EXPECT_EQ(p.b.local_state().to_us, AmountMsat(1000));
  }
}

}  // namespace
}  // namespace hashlock::ln
