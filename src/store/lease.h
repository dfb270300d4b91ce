// StoreLease: exactly one process owns a store at a time.
//
// The lease is a record in the store (namespace "hashlock_meta", key
// "lease"): the owner's id, when it expires, and an epoch that grows with
// every new owner. acquire() succeeds if there is no lease, the lease has
// expired, or it is already ours; it writes with an expectation on the old
// value, so two processes racing for it cannot both win. Holders renew well
// before expiry; a process that finds the lease held gets LeaseHeld naming
// the owner and the expiry.
// Thread-safety: none. The StoreLease borrows the store and the clock, which
// must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "store/kv_store.h"
#include "util/clock.h"

namespace hashlock::store {

struct LeaseRecord {
  std::string owner;
  uint64_t expires_at_ms = 0;
  uint64_t epoch = 0;
};

Bytes encode_lease(const LeaseRecord& lease);
util::Result<LeaseRecord> decode_lease(ByteView encoded);

class StoreLease {
 public:
  static constexpr const char* kNamespace = "hashlock_meta";
  static constexpr const char* kKey = "lease";

  static util::Result<StoreLease> acquire(KVStore& store, util::Clock& clock, std::string owner,
                                          uint64_t ttl_ms);

  // Extends the lease by its ttl from now; LeaseHeld if another process took it.
  util::Status renew();
  // Gives the lease up (sets its expiry to now) if we still hold it.
  util::Status release();

  const LeaseRecord& record() const { return record_; }

 private:
  StoreLease(KVStore& store, util::Clock& clock, LeaseRecord record, uint64_t ttl_ms)
      : store_(&store), clock_(&clock), record_(std::move(record)), ttl_ms_(ttl_ms) {}
  util::Status replace(const LeaseRecord& next);

  KVStore* store_;
  util::Clock* clock_;
  LeaseRecord record_;
  uint64_t ttl_ms_;
};

}  // namespace hashlock::store
