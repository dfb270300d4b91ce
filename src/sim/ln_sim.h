// The Lightning network simulation behind `hashlock sim`.
//
// One seed drives a whole run: a ring of nodes with a channel between each
// neighbour pair (funded from both sides), random payments of random sizes
// over them, receivers that claim or fail, link disconnects, synchronous or
// asynchronous persistence with completions in random order, and crashes of
// random nodes at random persistence points (the store drops what was not
// synced; on SQLite the store is closed abruptly and reopened). After the
// workload the network settles and every invariant of testing.md that
// applies is checked. Now and then a node is restarted from an older copy
// of its manager state, taken before it handled a few user events: only if
// its monitors have not moved since, so the stale state lags in payments,
// events and claims but never needs a force close. With --stale-ahead-rate
// a node is also restarted from an older copy whatever its monitors did
// since, so it must close channels found behind, close monitors of channels
// it does not know and rebuild payments from its monitors. With --force-close-rate
// or --reorg-rate the channels are funded on the harness's simulated chain,
// a block is mined per payment, random channels are force-closed (and
// replaced, so the ring stays connected) and the chain reorganises up to
// three blocks deep (--max-reorg-depth); after the workload enough blocks
// are mined for every on-chain resolution, and invariant 4 is checked on
// chain too (closed channels resolved, every output owned by a node or an
// open channel, the deposits equal to what is unspent plus the fees). A
// share of the force closes (--revoked-close-share) is a cheat instead: the
// closing node broadcasts one of its own earlier commitments, already
// revoked (a copy kept by the test-only CheaterCommitmentStash), and the
// check proves its peer's monitor punished it: every to-local and HTLC
// output of that commitment went to the peer through the revocation path.
// Payments with an HTLC on a channel a cheater closed so are forfeited by
// the cheater: invariants 2 and 5 (what a sender or forwarder is owed) do not
// apply to them; invariant 1 does. The run is single-threaded and
// deterministic.
// Limits on steps and settle rounds are named constants; a run that cannot
// settle is a violation ("no convergence"), not a hang.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ln/harness.h"

namespace hashlock::sim {

struct LnSimConfig {
  uint64_t seed = 1;
  size_t nodes = 3;
  uint64_t payments = 100;
  double crash_rate = 0.0;  // chance per payment that some node crashes soon
  bool async_persist = false;
  bool forwarding = false;
  bool mpp = false;
  double force_close_rate = 0.0;
  double reorg_rate = 0.0;
  // Share of the force closes where the closing node cheats with a revoked commitment.
  double revoked_close_share = 0.25;
  uint64_t max_reorg_depth = 3;  // reorganisations are 1..this many blocks deep
  bool persistent_mode = true;
  std::string store = "memory";  // or "sqlite:DIR"
  // Chance per payment of a stale-snapshot step at a random node: copy its
  // manager state, let it handle a few events, write the older copy back and
  // restart it. Negative: the same as the crash rate.
  double stale_snapshot_rate = -1.0;
  // Chance per payment that a random node's manager state is replaced by
  // one of its older copies (kept at random earlier points, up to
  // kStaleStatesKept per node) and the node restarts, whatever its monitors
  // did since: a lost manager write or a restore from a backup. The state
  // may be behind by one update or by many; the engine must force-close what
  // it finds behind, rebuild what it forgot, and lose nothing.
  double stale_ahead_rate = 0.0;
  ln::ManagerConfig::PlantedBug canary = ln::ManagerConfig::PlantedBug::kNone;
};

struct LnSimReport {
  uint64_t seed = 0;
  size_t nodes = 0;
  uint64_t payments_attempted = 0;
  uint64_t payments_succeeded = 0;
  uint64_t payments_failed = 0;
  uint64_t forwards = 0;
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  // Closes by kind. Off chain: channels a node force-closed (a stale state
  // behind its monitor). With the chain: channels whose funding a current
  // commitment spent (closed by the simulation or by a node itself);
  // revoked_closes: spent by a revoked commitment a cheater broadcast, of
  // which punished_revoked_commitments lost every to-local and HTLC output
  // to the victim's revocation sweeps; cooperative_closes: spent by a
  // closing transaction.
  uint64_t force_closes = 0;
  uint64_t revoked_closes = 0;
  uint64_t punished_revoked_commitments = 0;
  uint64_t cooperative_closes = 0;
  uint64_t payments_forfeited = 0;  // payments with an HTLC on a channel a cheater closed
  // With the chain: channels the engine force-closed on its own (an HTLC
  // near its expiry, a peer's error); counted in force_closes too.
  uint64_t engine_closes = 0;
  uint64_t reorgs = 0;
  uint64_t lost_payments = 0;
  uint64_t duplicate_events = 0;
  uint64_t unacked_monitor_events = 0;
  uint64_t stuck_htlcs = 0;
  uint64_t events_replayed = 0;
  uint64_t disconnects = 0;
  uint64_t stale_restores = 0;
  // --stale-ahead-rate: restores of an older manager state whatever the
  // monitors did since; the channels the nodes then found their state
  // behind on and closed; the payments (or parts) rebuilt from monitors.
  uint64_t stale_restores_ahead = 0;
  uint64_t closes_from_stale_state = 0;
  uint64_t payments_rebuilt_from_monitors = 0;
  // Accepted sends only the lost state knew (no HTLC had left the sender):
  // no terminal event can come for them, and none is expected.
  uint64_t payments_forgotten = 0;
  uint64_t mpp_payments = 0;    // multi-part payments sent
  uint64_t path_successes = 0;  // PaymentPathSuccessful events: parts that settled
  uint64_t path_failures = 0;   // PaymentPathFailed events: parts that failed (and maybe were retried)
  bool funds_conserved = true;
  std::vector<std::string> violations;
  uint64_t wall_ms = 0;

  bool ok() const { return violations.empty(); }
};

inline constexpr size_t kMaxSimNodes = 64;
inline constexpr uint64_t kMaxSimPayments = 10'000'000;
inline constexpr size_t kStepsBetweenPaymentsMax = 3;
inline constexpr size_t kStaleStatesKept = 4;  // older manager copies per node, for --stale-ahead-rate
inline constexpr size_t kSimSettleRounds = 200'000;
// Reorganisations must stay shallower than the anti-reorg delay (6 blocks).
inline constexpr uint64_t kMaxSimReorgDepth = ln::kAntiReorgDelayBlocks - 1;

// Checks the configuration; the message names the bad flag.
util::Status validate(const LnSimConfig& config);

// Runs one simulation. `progress` (optional) is called now and then with the
// number of payments sent so far.
LnSimReport run_ln_sim(const LnSimConfig& config,
                       const std::function<void(uint64_t done)>& progress = {});

// The command that reproduces a run.
std::string reproduce_command(const LnSimConfig& config);

}  // namespace hashlock::sim
