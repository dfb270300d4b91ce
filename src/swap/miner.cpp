#include "swap/miner.h"

namespace hashlock::swap {

util::Result<Miner> Miner::start(store::KVStore& store, FulfillerNetwork network,
                                 RecoveryLogSink& recovery_log, util::Clock& clock,
                                 const MinerOptions& options) {
  const std::string& owner =
      options.lease_owner.empty() ? options.fulfiller.miner_id : options.lease_owner;
  auto lease = store::StoreLease::acquire(store, clock, owner, options.lease_ttl_ms);
  if (!lease.is_ok())
    return lease.status().with_context("miner '" + options.fulfiller.miner_id + "'");
  HASHLOCK_ASSIGN_OR_RETURN(
      Fulfiller fulfiller,
      Fulfiller::open(store, network, recovery_log, clock, options.fulfiller, options.hooks));
  return Miner(std::move(lease).value(), std::move(fulfiller));
}

util::Result<PollReport> Miner::run_once() {
  util::Status renewed = lease_.renew();
  if (!renewed.is_ok()) return renewed.with_context("miner lost its store lease; stopping");
  return fulfiller_.poll();
}

}  // namespace hashlock::swap
