// Miner: one fulfiller that owns its store, fenced by the store lease.
//
// Purpose: what `hashlock miner` and the swap simulator run. start() takes
// the store lease (a second miner on the same store gets LeaseHeld naming the
// owner), then opens the fulfiller from the store. run_once() renews the
// lease before every poll, so a miner that lost its lease (it stalled past
// the ttl and another process took over) stops instead of paying anything.
// Ownership: borrows the store, the network, the recovery log and the clock.
// Thread-safety: none; one thread drives a Miner.
// Invariant: poll() runs only while this process holds the lease. After a
// crash, a restarted process with a new lease owner id waits for the old
// lease to expire (lease_ttl_ms) before it may start.
#pragma once

#include <cstdint>

#include "store/lease.h"
#include "swap/fulfiller.h"

namespace hashlock::swap {

inline constexpr uint64_t kDefaultLeaseTtlMs = 30'000;

struct MinerOptions {
  FulfillerConfig fulfiller;
  // Who holds the store lease: one id per process (e.g. "miner-1@host:pid"),
  // so a second process with the same miner id is refused too. Empty: the
  // miner id (the simulator, whose restarts are one process after another).
  std::string lease_owner;
  uint64_t lease_ttl_ms = kDefaultLeaseTtlMs;
  FulfillerTestHooks hooks;
};

class Miner {
 public:
  static util::Result<Miner> start(store::KVStore& store, FulfillerNetwork network,
                                   RecoveryLogSink& recovery_log, util::Clock& clock,
                                   const MinerOptions& options);

  // Renews the lease, then polls once. Any error means: stop this process.
  util::Result<PollReport> run_once();
  // Gives the lease up so the next miner need not wait for it to expire.
  util::Status stop() { return lease_.release(); }

  const Fulfiller& fulfiller() const { return fulfiller_; }

 private:
  Miner(store::StoreLease lease, Fulfiller fulfiller)
      : lease_(std::move(lease)), fulfiller_(std::move(fulfiller)) {}

  store::StoreLease lease_;
  Fulfiller fulfiller_;
};

}  // namespace hashlock::swap
