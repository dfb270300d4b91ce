// A consistency fuzzer in the spirit of a channel-monitor fuzzer: the input
// bytes are a sequence of actions over three nodes (A-B and B-C channels):
// payments, delivery or loss of single messages, disconnects, asynchronous
// persistence completed in any order, crashes now or at the n-th store
// operation, restarts in the other compatibility mode, and event handling.
// At the end the network settles and every invariant must hold; any
// violation aborts, which libFuzzer reports with the input that caused it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ln/harness.h"
#include "util/check.h"

using namespace hashlock;

namespace {

constexpr size_t kMaxActions = 400;

struct Input {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  bool done() const { return at >= size; }
  uint8_t next() { return at < size ? data[at++] : 0; }
};

struct Fuzz {
  explicit Fuzz(Input& in)
      : in_(in),
        harness_(3, ln::HarnessOptions{.persistent_monitor_events = (in.next() & 1) == 0,
                                       .async_persistence = (in.next() & 1) == 1,
                                       .seed = in.next() + 1u}) {
    channels_[0] =
        harness_.open_channel(0, 1, ln::AmountMsat(50'000'000), ln::AmountMsat(25'000'000));
    channels_[1] =
        harness_.open_channel(1, 2, ln::AmountMsat(50'000'000), ln::AmountMsat(25'000'000));
  }

  void pay(uint8_t choice) {
    const size_t link = choice & 1;
    const bool forward = (choice & 2) != 0;
    const size_t from = forward ? link : link + 1;
    const std::string tag = std::to_string(payments_++);
    const ln::PaymentPreimage preimage(util::sha256(util::as_bytes("fuzz preimage " + tag)));
    harness_.expect_payment(preimage, (choice & 4) == 0);
    const uint64_t amount = 1000 + static_cast<uint64_t>(in_.next()) * 10'000;
    (void)harness_.on_node(from, [&](ln::ChannelManager& m) {
      return m.send_payment(ln::PaymentId(util::sha256(util::as_bytes("fuzz payment " + tag))),
                            preimage.payment_hash(), ln::AmountMsat(amount), channels_[link]);
    });
  }

  void act() {
    const uint8_t op = in_.next();
    const size_t node = op % 3;
    const size_t link = (op >> 2) & 1;
    const ln::NodeId a = harness_.node_id(link);
    const ln::NodeId b = harness_.node_id(link + 1);
    switch (op >> 4) {
      case 0:
      case 1:
      case 2:
        pay(op);
        break;
      case 3:
        (void)harness_.network().deliver_one(a, b);
        break;
      case 4:
        (void)harness_.network().deliver_one(b, a);
        break;
      case 5:
        (void)((op & 1) ? harness_.drop(link, link + 1) : harness_.drop(link + 1, link));
        break;
      case 6:
        harness_.process(node);
        harness_.run_claims();
        break;
      case 7: {
        ln::AsyncPersister* async = harness_.node(node).async_persister();
        if (async != nullptr && async->pending() > 0) {
          const size_t index = in_.next() % async->pending();
          (void)harness_.on_node(node, [&](ln::ChannelManager& m) {
            util::Status done = async->complete(index);
            return done.is_ok() ? m.process_completions() : done;
          });
        }
        break;
      }
      case 8:
        harness_.crash(node);
        break;
      case 9:
        harness_.store(node).go_down_after(1 + in_.next() % 32);
        break;
      case 10:
        harness_.disconnect(link, link + 1);
        break;
      case 11:
        harness_.reconnect(link, link + 1);
        break;
      case 12:
        (void)harness_.restart_with_mode(node, (op & 8) != 0);
        break;
      case 13:
        harness_.replay_next(node, op & 3);
        break;
      default:
        harness_.step();
        break;
    }
  }

  void finish() {
    harness_.reconnect(0, 1);
    harness_.reconnect(1, 2);
    for (size_t i = 0; i < 3; ++i) harness_.replay_next(i, 0);
    HASHLOCK_CHECK(harness_.settle(), "no convergence: the network did not settle");
    std::string problems;
    for (const std::string& p : harness_.check_quiescent()) problems += p + "; ";
    HASHLOCK_CHECK(problems.empty(), problems.c_str());
  }

  Input& in_;
  ln::LnHarness harness_;
  ln::ChannelId channels_[2];
  uint64_t payments_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  Fuzz fuzz(in);
  for (size_t actions = 0; actions < kMaxActions && !in.done(); ++actions) fuzz.act();
  fuzz.finish();
  return 0;
}
