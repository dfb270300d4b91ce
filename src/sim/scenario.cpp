#include "sim/scenario.h"

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ln/harness.h"
#include "ln/manager_store.h"

namespace hashlock::sim {
namespace {

using ln::AmountMsat;
using ln::ChannelId;
using ln::Event;

constexpr size_t kMaxScenarioLines = 10'000;
constexpr size_t kMaxNodes = 16;
constexpr uint64_t kMaxCltvDelta = 2016;  // blocks between a forward's inbound and outbound expiry
constexpr uint64_t kMaxScenarioBlocks = 5000;  // per mine line
constexpr size_t kHoldForever = 1'000'000'000;

// Command name -> (minimum words, maximum words), the name included.
const std::map<std::string, std::pair<size_t, size_t>>& grammar() {
  static const std::map<std::string, std::pair<size_t, size_t>> kGrammar = {
      {"scenario", {2, 64}},
      {"mode", {2, 2}},
      {"persistence", {2, 2}},
      {"seed", {2, 2}},
      {"nodes", {3, 1 + kMaxNodes}},
      {"channel", {4, 9}},
      {"send", {5, 10}},
      {"send-mpp", {5, 10}},
      {"send-parts", {5, 5 + ln::kMaxPaymentParts}},
      {"tick", {1, 2}},
      {"advertise", {6, 6}},
      {"deliver", {2, 4}},
      {"drop", {3, 4}},
      {"disconnect", {3, 3}},
      {"reconnect", {3, 3}},
      {"crash", {2, 4}},
      {"snapshot", {3, 3}},
      {"lose-manager", {2, 2}},
      {"restore", {3, 3}},
      {"complete", {3, 64}},
      {"process", {2, 3}},
      {"replay", {3, 3}},
      {"hold", {2, 2}},
      {"release", {2, 2}},
      {"step", {1, 2}},
      {"settle", {1, 1}},
      {"switch-mode", {3, 4}},
      {"expect", {2, 16}},
      {"mine", {2, 2}},
      {"reorg", {2, 2}},
      {"force-close", {3, 3}},
      {"close", {3, 3}},
      {"cltv-delta", {2, 2}},
      {"late-claims", {1, 1}},
      {"claim", {3, 3}},
      {"keep-commitment", {4, 4}},
      {"cheat", {3, 3}},
  };
  return kGrammar;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string current;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t')) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

util::Result<uint64_t> number(const std::string& text, const std::string& where) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return util::invalid_argument(where + "'" + text + "' is not a number");
  return value;
}

// Executes a parsed scenario.
class Runner {
 public:
  explicit Runner(const Scenario& scenario) : scenario_(scenario) {}

  ScenarioResult run() {
    ScenarioResult result;
    for (const ScenarioCommand& command : scenario_.commands) {
      line_ = command.line;
      util::Status status = execute(command.words);
      if (!status.is_ok()) {
        result.failure = scenario_.file + ":" + std::to_string(line_) + ": " + status.message();
        result.expectations_checked = checked_;
        return result;
      }
    }
    result.passed = true;
    result.expectations_checked = checked_;
    return result;
  }

 private:
  util::Status fail(const std::string& what) const { return util::failed_precondition(what); }

  util::Result<size_t> node(const std::string& name) const {
    auto it = names_.find(name);
    if (it == names_.end()) return util::invalid_argument("unknown node '" + name + "'");
    return it->second;
  }

  util::Status need_harness() const {
    return harness_ ? util::Status::ok()
                    : util::invalid_argument("declare the nodes first ('nodes A B ...')");
  }

  util::Result<ChannelId> channel(const std::string& name) const {
    auto it = channels_.find(name);
    if (it == channels_.end()) return util::invalid_argument("unknown channel '" + name + "'");
    return it->second;
  }

  util::Status execute(const std::vector<std::string>& w) {
    const std::string& c = w[0];
    if (c == "scenario") return util::Status::ok();
    if (c == "mode")
      return set_flag(w[1] == "persistent", w[1] != "legacy" && w[1] != "persistent",
                      options_.persistent_monitor_events);
    if (c == "persistence")
      return set_flag(w[1] == "async", w[1] != "sync" && w[1] != "async",
                      options_.async_persistence);
    if (c == "seed") {
      HASHLOCK_ASSIGN_OR_RETURN(options_.seed, number(w[1], "seed "));
      return util::Status::ok();
    }
    if (c == "cltv-delta") {
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t delta, number(w[1], "cltv-delta "));
      if (delta == 0 || delta > kMaxCltvDelta) {
        return util::invalid_argument("cltv-delta must be between 1 and " +
                                      std::to_string(kMaxCltvDelta) + " blocks");
      }
      options_.cltv_expiry_delta = static_cast<uint32_t>(delta);
      return util::Status::ok();
    }
    if (c == "late-claims") {
      if (harness_) return util::invalid_argument("'late-claims' goes before 'nodes'");
      options_.late_claims = true;
      return util::Status::ok();
    }
    if (c == "nodes") return make_nodes(w);
    HASHLOCK_RETURN_IF_ERROR(need_harness());
    if (c == "channel") return open_channel(w);
    if (c == "send") return send(w);
    if (c == "send-mpp") return send_mpp(w);
    if (c == "send-parts") return send_parts(w);
    if (c == "tick") return tick(w);
    if (c == "advertise") return advertise(w);
    if (c == "deliver") return deliver(w);
    if (c == "drop") return drop(w);
    if (c == "disconnect" || c == "reconnect") {
      HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
      HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
      c == "disconnect" ? harness_->disconnect(a, b) : harness_->reconnect(a, b);
      return util::Status::ok();
    }
    if (c == "crash") return crash(w);
    if (c == "mine") return mine(w);
    if (c == "reorg") return reorg(w);
    if (c == "force-close") return force_close(w);
    if (c == "close") return close(w);
    if (c == "claim") return claim(w);
    if (c == "keep-commitment") return keep_commitment(w);
    if (c == "cheat") return cheat(w);
    if (c == "snapshot" || c == "restore") return snapshot(w);
    if (c == "lose-manager") {
      HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
      return harness_->lose_manager_state(a);
    }
    if (c == "complete") return complete(w);
    if (c == "process") {
      HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
      uint64_t times = 1;
      if (w.size() == 3) {
        HASHLOCK_ASSIGN_OR_RETURN(times, number(w[2], "process count "));
      }
      for (uint64_t i = 0; i < times; ++i) harness_->process(a);
      harness_->run_claims();
      return util::Status::ok();
    }
    if (c == "replay" || c == "hold" || c == "release") {
      HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
      uint64_t n = c == "hold" ? kHoldForever : 0;
      if (c == "replay") {
        HASHLOCK_ASSIGN_OR_RETURN(n, number(w[2], "replay count "));
      }
      harness_->replay_next(a, static_cast<int>(n));
      return util::Status::ok();
    }
    if (c == "step") {
      uint64_t n = 1;
      if (w.size() == 2) {
        HASHLOCK_ASSIGN_OR_RETURN(n, number(w[1], "step count "));
      }
      for (uint64_t i = 0; i < n; ++i) harness_->step();
      return util::Status::ok();
    }
    if (c == "settle")
      return harness_->settle() ? util::Status::ok() : fail("the network did not settle");
    if (c == "switch-mode") return switch_mode(w);
    if (c == "expect") return expect(w);
    return util::invalid_argument("unknown command '" + c + "'");
  }

  util::Status set_flag(bool value, bool invalid, bool& flag) {
    if (invalid) return util::invalid_argument("expected persistent/legacy or sync/async");
    if (harness_) return util::invalid_argument("set the mode and persistence before 'nodes'");
    flag = value;
    return util::Status::ok();
  }

  util::Status make_nodes(const std::vector<std::string>& w) {
    if (harness_) return util::invalid_argument("'nodes' may appear only once");
    for (size_t i = 1; i < w.size(); ++i) {
      if (!names_.emplace(w[i], i - 1).second)
        return util::invalid_argument("node '" + w[i] + "' is declared twice");
    }
    harness_ = std::make_unique<ln::LnHarness>(w.size() - 1, options_);
    return util::Status::ok();
  }

  // channel A B CAPACITY [push AMOUNT] [as NAME] [funded]
  util::Status open_channel(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t capacity, number(w[3], "capacity "));
    uint64_t push = 0;
    std::string name = w[1] + "-" + w[2];
    bool funded = false;
    for (size_t i = 4; i < w.size(); i += 2) {
      if (w[i] == "funded") {
        funded = true;
        --i;
      } else if (i + 1 >= w.size()) {
        return util::invalid_argument("channel option '" + w[i] + "' needs a value");
      } else if (w[i] == "push") {
        HASHLOCK_ASSIGN_OR_RETURN(push, number(w[i + 1], "push "));
      } else if (w[i] == "as") {
        name = w[i + 1];
      } else {
        return util::invalid_argument("unknown channel option '" + w[i] + "' (push, as, funded)");
      }
    }
    if (push > capacity || capacity == 0)
      return util::invalid_argument("push must not exceed a positive capacity");
    if (!funded) {
      channels_[name] = harness_->open_channel(a, b, AmountMsat(capacity), AmountMsat(push));
      return util::Status::ok();
    }
    auto id = harness_->open_funded_channel(a, b, AmountMsat(capacity), AmountMsat(push));
    if (!id) return fail("the funded channel " + name + " did not open at both ends");
    channels_[name] = *id;
    return util::Status::ok();
  }

  // mine N: N blocks, the network settling after each.
  util::Status mine(const std::vector<std::string>& w) {
    if (w.size() != 2) return util::invalid_argument("use 'mine N'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t blocks, number(w[1], "block count "));
    if (blocks > kMaxScenarioBlocks)
      return util::invalid_argument("'mine' takes at most " + std::to_string(kMaxScenarioBlocks) +
                                    " blocks at once");
    harness_->mine(blocks);
    return util::Status::ok();
  }

  // reorg DEPTH: the top DEPTH blocks are replaced by DEPTH + 1 new ones.
  util::Status reorg(const std::vector<std::string>& w) {
    if (w.size() != 2) return util::invalid_argument("use 'reorg DEPTH'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t depth, number(w[1], "reorg depth "));
    util::Status done = harness_->chain().reorg(depth);
    if (!done.is_ok()) return util::invalid_argument(done.message());
    harness_->settle();
    return util::Status::ok();
  }

  // force-close A CHANNEL
  util::Status force_close(const std::vector<std::string>& w) {
    if (w.size() != 3) return util::invalid_argument("use 'force-close A CHANNEL'");
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[2]));
    util::Status closed = harness_->on_node(a, [&](ln::ChannelManager& m) {
      return m.force_close_channel(id, "closed by the scenario");
    });
    if (!closed.is_ok()) return fail("force-close " + w[2] + " was refused: " + closed.message());
    return util::Status::ok();
  }

  // close A CHANNEL: A asks for a cooperative close.
  util::Status close(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[2]));
    util::Status closed =
        harness_->on_node(a, [&](ln::ChannelManager& m) { return m.close_channel(id); });
    if (!closed.is_ok()) return fail("close " + w[2] + " was refused: " + closed.message());
    return util::Status::ok();
  }

  // keep-commitment A CHANNEL NAME: A keeps a copy of its current commitment
  // transaction of CHANNEL, as a cheater would (test-only).
  util::Status keep_commitment(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[2]));
    const ln::ChannelMonitor* monitor = harness_->node(a).chain_monitor().get(id);
    if (monitor == nullptr || !monitor->tx_params())
      return fail("node " + w[1] + " has no funded channel " + w[2]);
    auto commitment = monitor->holder_commitment_tx();
    if (!commitment.is_ok()) return fail(commitment.status().message());
    kept_commitments_[w[1] + "/" + w[3]] = std::move(commitment).value();
    return util::Status::ok();
  }

  // cheat A NAME: A broadcasts the commitment it kept as NAME (revoked since, if
  // the channel moved on); the next block may confirm it.
  util::Status cheat(const std::vector<std::string>& w) {
    HASHLOCK_RETURN_IF_ERROR(node(w[1]).status());
    auto it = kept_commitments_.find(w[1] + "/" + w[2]);
    if (it == kept_commitments_.end())
      return util::invalid_argument("node " + w[1] + " kept no commitment '" + w[2] + "'");
    util::Status sent = harness_->chain().broadcast(it->second);
    if (!sent.is_ok()) return fail("the chain refused commitment " + w[2] + ": " + sent.message());
    return util::Status::ok();
  }

  // claim B PAYMENT: the receiver of a payment sent with 'hold' claims it now.
  util::Status claim(const std::vector<std::string>& w) {
    if (w.size() != 3) return util::invalid_argument("use 'claim B PAYMENT'");
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[1]));
    const PaymentInfo info = payment(w[2]);
    util::Status claimed =
        harness_->on_node(b, [&](ln::ChannelManager& m) { return m.claim_funds(info.preimage); });
    if (!claimed.is_ok()) return fail("claim " + w[2] + " was refused: " + claimed.message());
    return util::Status::ok();
  }

  struct PaymentInfo {
    ln::PaymentId id;
    ln::PaymentPreimage preimage;
  };

  PaymentInfo payment(const std::string& name) {
    auto it = payments_.find(name);
    if (it != payments_.end()) return it->second;
    const std::string tag = scenario_.file + "/" + name;
    PaymentInfo info{ln::PaymentId(util::sha256(util::as_bytes("payment " + tag))),
                     ln::PaymentPreimage(util::sha256(util::as_bytes("preimage " + tag)))};
    payments_[name] = info;
    return info;
  }

  // send A B PAYMENT AMOUNT [claim|fail|hold] [via CHANNEL[,CHANNEL...]] [refused]
  util::Status send(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    (void)b;
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, number(w[4], "amount "));
    bool claim = true;
    bool hold = false;
    bool refused = false;
    std::string via = w[1] + "-" + w[2];
    if (channels_.count(via) == 0) via = w[2] + "-" + w[1];
    for (size_t i = 5; i < w.size(); ++i) {
      if (w[i] == "hold") {
        hold = true;
      } else if (w[i] == "refused") {
        refused = true;
      } else if (w[i] == "claim" || w[i] == "fail") {
        claim = w[i] == "claim";
      } else if (w[i] == "via" && i + 1 < w.size()) {
        via = w[++i];
      } else {
        return util::invalid_argument("unknown send option '" + w[i] +
                                      "' (claim, fail, hold, via CHANNEL[,CHANNEL...], refused)");
      }
    }
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<ln::RouteHop> route, route_of(via));
    const PaymentInfo info = payment(w[3]);
    if (!refused) {
      if (hold) {
        harness_->hold_payment(info.preimage.payment_hash());
      } else {
        harness_->expect_payment(info.preimage, claim);
      }
    }
    util::Status sent = harness_->on_node(a, [&](ln::ChannelManager& m) {
      return m.send_payment_route(info.id, info.preimage.payment_hash(), AmountMsat(amount), route);
    });
    if (refused) {
      ++checked_;
      if (sent.is_ok()) return fail("send " + w[3] + " was expected to be refused, and was sent");
      return util::Status::ok();
    }
    if (!sent.is_ok()) return fail("send " + w[3] + " was refused: " + sent.message());
    harness_->note_send(a, info.id);
    return util::Status::ok();
  }

  util::Result<std::vector<ln::RouteHop>> route_of(const std::string& via) const {
    std::vector<ln::RouteHop> route;
    for (size_t start = 0; start <= via.size();) {
      const size_t comma = std::min(via.find(',', start), via.size());
      HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(via.substr(start, comma - start)));
      // Every forwarding node runs the default fee policy with the scenario's cltv-delta.
      route.push_back(
          ln::RouteHop{id, ln::FeePolicy{.cltv_expiry_delta = options_.cltv_expiry_delta}});
      start = comma + 1;
    }
    return route;
  }

  // send-mpp A B PAYMENT AMOUNT [claim|fail] [parts N] [retries N]
  util::Status send_mpp(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, number(w[4], "amount "));
    bool claim = true;
    uint64_t parts = 2, retries = 3;
    for (size_t i = 5; i < w.size(); ++i) {
      if (w[i] == "claim" || w[i] == "fail") {
        claim = w[i] == "claim";
      } else if (w[i] == "parts" && i + 1 < w.size()) {
        HASHLOCK_ASSIGN_OR_RETURN(parts, number(w[++i], "parts "));
      } else if (w[i] == "retries" && i + 1 < w.size()) {
        HASHLOCK_ASSIGN_OR_RETURN(retries, number(w[++i], "retries "));
      } else {
        return util::invalid_argument("unknown send-mpp option '" + w[i] +
                                      "' (claim, fail, parts N, retries N)");
      }
    }
    const PaymentInfo info = payment(w[3]);
    harness_->expect_payment(info.preimage, claim);
    const ln::PaymentParams params{
        .payee = harness_->node_id(b),
        .payment_hash = info.preimage.payment_hash(),
        .amount = AmountMsat(amount),
        .max_parts = static_cast<size_t>(parts),
        .max_retries = static_cast<uint32_t>(std::min<uint64_t>(retries, UINT32_MAX))};
    util::Status sent = harness_->on_node(
        a, [&](ln::ChannelManager& m) { return m.send_payment_mpp(info.id, params); });
    if (!sent.is_ok()) return fail("send-mpp " + w[3] + " was refused: " + sent.message());
    harness_->note_send(a, info.id);
    return util::Status::ok();
  }

  // send-parts A B PAYMENT claim|fail CH1,CH2:AMOUNT ...
  util::Status send_parts(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    if (w[4] != "claim" && w[4] != "fail")
      return util::invalid_argument("send-parts needs claim or fail before the parts");
    std::vector<ln::PartSpec> parts;
    AmountMsat total;
    for (size_t i = 5; i < w.size(); ++i) {
      const size_t colon = w[i].rfind(':');
      if (colon == std::string::npos)
        return util::invalid_argument("a part is CH1,CH2,...:AMOUNT, not '" + w[i] + "'");
      HASHLOCK_ASSIGN_OR_RETURN(std::vector<ln::RouteHop> route, route_of(w[i].substr(0, colon)));
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, number(w[i].substr(colon + 1), "part amount "));
      HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(AmountMsat(amount)));
      parts.push_back(ln::PartSpec{std::move(route), AmountMsat(amount)});
    }
    const PaymentInfo info = payment(w[3]);
    harness_->expect_payment(info.preimage, w[4] == "claim");
    const ln::PaymentParams params{.payee = harness_->node_id(b),
                                   .payment_hash = info.preimage.payment_hash(),
                                   .amount = total};
    util::Status sent = harness_->on_node(
        a, [&](ln::ChannelManager& m) { return m.send_payment_parts(info.id, params, parts); });
    if (!sent.is_ok()) return fail("send-parts " + w[3] + " was refused: " + sent.message());
    harness_->note_send(a, info.id);
    return util::Status::ok();
  }

  // tick [N]
  util::Status tick(const std::vector<std::string>& w) {
    uint64_t n = 1;
    if (w.size() == 2) {
      HASHLOCK_ASSIGN_OR_RETURN(n, number(w[1], "tick count "));
    }
    for (uint64_t i = 0; i < n; ++i) harness_->tick();
    return util::Status::ok();
  }

  // advertise CHANNEL FROM fee BASE_MSAT PPM: what the network graph says FROM
  // charges to forward into CHANNEL (a stale view: FROM keeps its real fee).
  util::Status advertise(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t from, node(w[2]));
    if (w[3] != "fee")
      return util::invalid_argument("use 'advertise CHANNEL NODE fee BASE_MSAT PPM'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t base, number(w[4], "base fee "));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t ppm, number(w[5], "proportional fee "));
    if (ppm > 1'000'000) return util::invalid_argument("proportional fee above 1,000,000 ppm");
    const size_t changed = harness_->graph().set_fees(id, harness_->node_id(from), AmountMsat(base),
                                                      static_cast<uint32_t>(ppm));
    return changed > 0 ? util::Status::ok() : fail(w[2] + " is not an end of channel " + w[1]);
  }

  // deliver all | deliver A B [N|all]
  util::Status deliver(const std::vector<std::string>& w) {
    if (w.size() == 2) {
      if (w[1] != "all")
        return util::invalid_argument("use 'deliver all' or 'deliver A B [N|all]'");
      harness_->network().deliver_all();
      return util::Status::ok();
    }
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    uint64_t n = 1;
    const bool all = w.size() == 4 && w[3] == "all";
    if (w.size() == 4 && !all) {
      HASHLOCK_ASSIGN_OR_RETURN(n, number(w[3], "message count "));
    }
    for (uint64_t i = 0; all || i < n; ++i) {
      if (!harness_->network().deliver_one(harness_->node_id(a), harness_->node_id(b))) {
        if (all) break;
        return fail("no message in flight from " + w[1] + " to " + w[2] + " (delivered " +
                    std::to_string(i) + ")");
      }
    }
    return util::Status::ok();
  }

  util::Status drop(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    HASHLOCK_ASSIGN_OR_RETURN(size_t b, node(w[2]));
    uint64_t n = 1;
    if (w.size() == 4) {
      HASHLOCK_ASSIGN_OR_RETURN(n, number(w[3], "message count "));
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (!harness_->drop(a, b))
        return fail("no message in flight from " + w[1] + " to " + w[2] + " to drop");
    }
    return util::Status::ok();
  }

  // crash A | crash A after N
  util::Status crash(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    if (w.size() == 2) {
      harness_->crash(a);
      return util::Status::ok();
    }
    if (w.size() != 4 || w[2] != "after")
      return util::invalid_argument("use 'crash A' or 'crash A after N'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t n, number(w[3], "operation count "));
    if (n == 0) return util::invalid_argument("'crash A after N' needs N >= 1");
    harness_->store(a).go_down_after(n);
    return util::Status::ok();
  }

  util::Status snapshot(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    const std::string key = w[1] + "/" + w[2];
    if (w[0] == "snapshot") {
      HASHLOCK_ASSIGN_OR_RETURN(ln::ManagerSnapshot state, ln::snapshot_manager_records(harness_->kv(a)));
      snapshots_[key] = std::move(state);
      return util::Status::ok();
    }
    auto it = snapshots_.find(key);
    if (it == snapshots_.end())
      return util::invalid_argument("no snapshot '" + w[2] + "' of node " + w[1]);
    HASHLOCK_RETURN_IF_ERROR(ln::restore_manager_records(harness_->kv(a), it->second));
    harness_->crash(a);
    return util::Status::ok();
  }

  // complete A all | complete A I J K ... (indices into the pending list as it is now)
  util::Status complete(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    ln::AsyncPersister* async = harness_->node(a).async_persister();
    if (async == nullptr) return util::invalid_argument("'complete' needs 'persistence async'");
    std::vector<std::pair<ln::ChannelId, uint64_t>> order;
    const auto& pending = async->pending_updates();
    if (w[2] == "all") {
      for (const auto& u : pending) order.emplace_back(u.channel_id, u.update_id);
    } else {
      for (size_t i = 2; i < w.size(); ++i) {
        HASHLOCK_ASSIGN_OR_RETURN(uint64_t index, number(w[i], "pending index "));
        if (index >= pending.size())
          return fail("only " + std::to_string(pending.size()) + " updates are pending at " + w[1]);
        order.emplace_back(pending[index].channel_id, pending[index].update_id);
      }
    }
    for (const auto& [channel_id, update_id] : order) {
      ln::AsyncPersister* current = harness_->node(a).async_persister();
      const auto& now = current->pending_updates();
      for (size_t i = 0; i < now.size(); ++i) {
        if (now[i].channel_id != channel_id || now[i].update_id != update_id) continue;
        (void)harness_->on_node(a, [&](ln::ChannelManager&) { return current->complete(i); });
        break;
      }
    }
    (void)harness_->on_node(a, [](ln::ChannelManager& m) { return m.process_completions(); });
    return util::Status::ok();
  }

  // switch-mode A persistent|legacy [refused]
  util::Status switch_mode(const std::vector<std::string>& w) {
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[1]));
    if (w[2] != "persistent" && w[2] != "legacy")
      return util::invalid_argument("switch-mode takes persistent or legacy");
    const bool expect_refusal = w.size() == 4 && w[3] == "refused";
    if (w.size() == 4 && !expect_refusal)
      return util::invalid_argument("switch-mode's last word may only be 'refused'");
    util::Status switched = harness_->restart_with_mode(a, w[2] == "persistent");
    ++checked_;
    if (expect_refusal && switched.is_ok())
      return fail("switch-mode to " + w[2] + " was expected to be refused");
    if (!expect_refusal && !switched.is_ok())
      return fail("switch-mode failed: " + switched.message());
    return util::Status::ok();
  }

  static bool matches(const Event& event, const std::string& kind, const ln::PaymentId* id,
                      const ln::PaymentHash* hash) {
    if (ln::event_name(event) != kind) return false;
    if (id == nullptr) return true;
    if (const auto* e = std::get_if<ln::PaymentSent>(&event)) return e->payment_id == *id;
    if (const auto* e = std::get_if<ln::PaymentFailed>(&event)) return e->payment_id == *id;
    if (const auto* e = std::get_if<ln::PaymentClaimable>(&event)) return e->payment_hash == *hash;
    if (const auto* e = std::get_if<ln::PaymentClaimed>(&event)) return e->payment_hash == *hash;
    if (const auto* e = std::get_if<ln::HtlcHandlingFailed>(&event))
      return e->payment_hash == *hash;
    if (const auto* e = std::get_if<ln::PaymentPathSuccessful>(&event)) return e->payment_id == *id;
    if (const auto* e = std::get_if<ln::PaymentPathFailed>(&event)) return e->payment_id == *id;
    if (const auto* e = std::get_if<ln::PaymentForwarded>(&event)) return e->payment_hash == *hash;
    return true;
  }

  util::Status expect(const std::vector<std::string>& w) {
    ++checked_;
    const std::string& what = w[1];
    if (what == "replayed") {
      if (w.size() != 3) return util::invalid_argument("use 'expect replayed N'");
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t expected, number(w[2], "replayed "));
      const uint64_t actual = harness_->events_replayed();
      return actual == expected
                 ? util::Status::ok()
                 : fail(std::to_string(actual) +
                        " monitor events were replayed and only acked, expected " + w[2]);
    }
    if (what == "crashes") {
      if (w.size() != 3) return util::invalid_argument("use 'expect crashes N'");
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t expected, number(w[2], "crashes "));
      return harness_->crashes() == expected ? util::Status::ok()
                                             : fail(std::to_string(harness_->crashes()) +
                                                    " crashes happened, expected " + w[2]);
    }
    if (what == "quiescent") {
      std::string problems;
      for (const std::string& p : harness_->check_quiescent())
        problems += (problems.empty() ? "" : "; ") + p;
      return problems.empty() ? util::Status::ok() : fail("not quiescent: " + problems);
    }
    if (w.size() < 3) return util::invalid_argument("expect " + what + " needs a node");
    HASHLOCK_ASSIGN_OR_RETURN(size_t a, node(w[2]));
    if (what == "count") return expect_count(a, w);
    if (what == "event") return expect_event(a, w);
    if (what == "close-kind") return expect_close_kind(a, w);
    if (what == "balance") {
      if (w.size() != 5) return util::invalid_argument("use 'expect balance A CHANNEL MSAT'");
      HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[3]));
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t expected, number(w[4], "balance "));
      const ln::Channel* ch = harness_->node(a).manager().channel(id);
      if (ch == nullptr) return fail("node " + w[2] + " does not know channel " + w[3]);
      const uint64_t actual = ch->local_state().to_us.value();
      return actual == expected ? util::Status::ok()
                                : fail("balance of " + w[2] + " in " + w[3] + " is " +
                                       std::to_string(actual) + " msat, expected " + w[4]);
    }
    if (w.size() != 4) return util::invalid_argument("use 'expect " + what + " A N'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t expected, number(w[3], what + " "));
    uint64_t actual = 0;
    if (what == "pending-htlcs") {
      actual = harness_->node(a).manager().pending_htlcs();
    } else if (what == "unacked") {
      actual = harness_->node(a).chain_monitor().unacked_events();
    } else if (what == "in-flight") {
      actual = harness_->node(a).manager().in_flight_monitor_updates();
    } else if (what == "queued-events") {
      actual = harness_->node(a).manager().queued_user_events();
    } else if (what == "on-chain") {
      actual = harness_->owned_on_chain(a).value();
    } else if (what == "punished") {
      ln::Node& n = harness_->node(a);
      for (const ChannelId& id : n.manager().channel_ids()) {
        if (const ln::ChannelMonitor* monitor = n.chain_monitor().get(id))
          actual += monitor->punishments_broadcast();
      }
    } else {
      return util::invalid_argument(
          "unknown expectation '" + what +
          "' (event, count, balance, close-kind, pending-htlcs, unacked, in-flight, "
          "queued-events, on-chain, punished, replayed, crashes, quiescent)");
    }
    return actual == expected ? util::Status::ok()
                              : fail(what + " of " + w[2] + " is " + std::to_string(actual) +
                                     ", expected " + w[3]);
  }

  // expect close-kind A CHANNEL KIND: how A's monitor saw the funding spent.
  util::Status expect_close_kind(size_t a, const std::vector<std::string>& w) {
    if (w.size() != 5) return util::invalid_argument("use 'expect close-kind A CHANNEL KIND'");
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, channel(w[3]));
    const ln::ChannelMonitor* monitor = harness_->node(a).chain_monitor().get(id);
    if (monitor == nullptr) return fail("node " + w[2] + " has no monitor of " + w[3]);
    const std::optional<ln::FundingSpendKind> kind = monitor->funding_spend_kind();
    const std::string actual = kind ? ln::funding_spend_kind_name(*kind) : "open";
    return actual == w[4] ? util::Status::ok()
                          : fail("close kind of " + w[3] + " at " + w[2] + " is " + actual +
                                 ", expected " + w[4]);
  }

  // expect count A KIND N
  util::Status expect_count(size_t a, const std::vector<std::string>& w) {
    if (w.size() != 5) return util::invalid_argument("use 'expect count A KIND N'");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t expected, number(w[4], "count "));
    const uint64_t actual = harness_->count_events(a, w[3]);
    return actual == expected ? util::Status::ok()
                              : fail(w[2] + " handled " + std::to_string(actual) + " " + w[3] +
                                     " events, expected " + w[4]);
  }

  // expect event A KIND [PAYMENT] [amount N] [fee N] [reason CODE] [text WORDS]
  util::Status expect_event(size_t a, const std::vector<std::string>& w) {
    if (w.size() < 4)
      return util::invalid_argument(
          "use 'expect event A KIND [PAYMENT] [amount N] [fee N] [reason CODE]'");
    const std::string& kind = w[3];
    size_t i = 4;
    std::optional<PaymentInfo> info;
    if (i < w.size() && w[i] != "amount" && w[i] != "fee" && w[i] != "reason" && w[i] != "text")
      info = payment(w[i++]);
    std::optional<uint64_t> amount, fee;
    std::string reason, text;
    for (; i + 1 < w.size(); i += 2) {
      if (w[i] == "amount") {
        HASHLOCK_ASSIGN_OR_RETURN(amount, number(w[i + 1], "amount "));
      } else if (w[i] == "fee") {
        HASHLOCK_ASSIGN_OR_RETURN(fee, number(w[i + 1], "fee "));
      } else if (w[i] == "reason") {
        reason = w[i + 1];
      } else if (w[i] == "text") {
        text = w[i + 1];
      } else {
        return util::invalid_argument("unknown event filter '" + w[i] +
                                      "' (amount, fee, reason, text)");
      }
    }
    if (i != w.size()) return util::invalid_argument("event filter '" + w[i] + "' needs a value");
    const ln::PaymentHash hash = info ? info->preimage.payment_hash() : ln::PaymentHash();
    for (const Event& event : harness_->events(a)) {
      if (!matches(event, kind, info ? &info->id : nullptr, info ? &hash : nullptr)) continue;
      if (amount && !event_amount_is(event, *amount)) continue;
      if (fee) {
        const auto* sent = std::get_if<ln::PaymentSent>(&event);
        const auto* forwarded = std::get_if<ln::PaymentForwarded>(&event);
        const uint64_t actual = sent != nullptr        ? sent->fee_paid.value()
                                : forwarded != nullptr ? forwarded->total_fee_earned_msat.value()
                                                       : UINT64_MAX;
        if (actual != *fee) continue;
      }
      if (!reason.empty()) {
        const ln::FailureReason* why = nullptr;
        if (const auto* failed = std::get_if<ln::PaymentFailed>(&event)) why = &failed->reason;
        if (const auto* handling = std::get_if<ln::HtlcHandlingFailed>(&event))
          why = &handling->reason;
        if (const auto* path = std::get_if<ln::PaymentPathFailed>(&event)) why = &path->reason;
        if (why == nullptr || ln::failure_code_name(why->code) != reason) continue;
      }
      if (!text.empty()) {
        const auto* closed = std::get_if<ln::ChannelClosed>(&event);
        if (closed == nullptr || closed->reason.find(text) == std::string::npos) continue;
      }
      return util::Status::ok();
    }
    std::string seen;
    for (const Event& event : harness_->events(a)) {
      seen += (seen.empty() ? "" : ", ") + ln::event_name(event);
      if (const auto* closed = std::get_if<ln::ChannelClosed>(&event))
        seen += " \"" + closed->reason + "\"";
    }
    return fail("no matching " + kind + " at " + w[2] +
                " (handled: " + (seen.empty() ? "none" : seen) + ")");
  }

  static bool event_amount_is(const Event& event, uint64_t amount) {
    if (const auto* e = std::get_if<ln::PaymentSent>(&event)) return e->amount.value() == amount;
    if (const auto* e = std::get_if<ln::PaymentClaimable>(&event))
      return e->amount.value() == amount;
    if (const auto* e = std::get_if<ln::PaymentClaimed>(&event)) return e->amount.value() == amount;
    if (const auto* e = std::get_if<ln::PaymentForwarded>(&event)) {
      return e->outbound_amount_forwarded_msat.value() == amount;
    }
    return false;
  }

  const Scenario& scenario_;
  ln::HarnessOptions options_;
  std::unique_ptr<ln::LnHarness> harness_;
  std::map<std::string, size_t> names_;
  std::map<std::string, ChannelId> channels_;
  std::map<std::string, PaymentInfo> payments_;
  std::map<std::string, ln::ManagerSnapshot> snapshots_;  // every manager record
  std::map<std::string, chain::Transaction> kept_commitments_;  // "NODE/NAME": a cheater's copies
  int line_ = 0;
  size_t checked_ = 0;
};

}  // namespace

util::Result<Scenario> parse_scenario(const std::string& file, const std::string& text) {
  Scenario scenario;
  scenario.file = file;
  const size_t slash = file.find_last_of('/');
  scenario.name = file.substr(slash == std::string::npos ? 0 : slash + 1);
  std::istringstream in(text);
  std::string line;
  int number_of_line = 0;
  bool saw_nodes = false;
  while (std::getline(in, line)) {
    ++number_of_line;
    if (static_cast<size_t>(number_of_line) > kMaxScenarioLines) {
      return util::invalid_argument(file + ": more than " + std::to_string(kMaxScenarioLines) +
                                    " lines");
    }
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::vector<std::string> words = split_words(line);
    if (words.empty()) continue;
    const std::string where = file + ":" + std::to_string(number_of_line) + ": ";
    auto rule = grammar().find(words[0]);
    if (rule == grammar().end())
      return util::invalid_argument(where + "unknown command '" + words[0] + "'");
    if (words.size() < rule->second.first || words.size() > rule->second.second) {
      return util::invalid_argument(where + "'" + words[0] + "' takes " +
                                    std::to_string(rule->second.first - 1) + " to " +
                                    std::to_string(rule->second.second - 1) + " arguments, got " +
                                    std::to_string(words.size() - 1));
    }
    if (words[0] == "scenario") {
      scenario.name.clear();
      for (size_t i = 1; i < words.size(); ++i) scenario.name += (i > 1 ? " " : "") + words[i];
      continue;
    }
    const bool setup = words[0] == "mode" || words[0] == "persistence" || words[0] == "seed" ||
                       words[0] == "cltv-delta" || words[0] == "late-claims";
    if (words[0] == "nodes") saw_nodes = true;
    if (!setup && words[0] != "nodes" && !saw_nodes)
      return util::invalid_argument(where + "declare the nodes first ('nodes A B ...')");
    scenario.commands.push_back(ScenarioCommand{number_of_line, std::move(words)});
  }
  if (!saw_nodes) return util::invalid_argument(file + ": no 'nodes' line");
  return scenario;
}

util::Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return util::not_found("cannot read scenario file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(path, text.str());
}

ScenarioResult run_scenario(const Scenario& scenario) {
  return Runner(scenario).run();
}

}  // namespace hashlock::sim
