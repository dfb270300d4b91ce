#include "store/lease.h"

#include "codec/record.h"

namespace hashlock::store {
namespace {

constexpr codec::RecordKind kLeaseRecord{
    .type = 1, .min_version = 1, .current_version = 1, .name = "store lease"};

enum LeaseField : uint64_t { kOwner = 0, kExpiresAtMs = 2, kEpoch = 4 };

util::Status held_by(const LeaseRecord& lease) {
  return util::lease_held("store is owned by '" + lease.owner + "' (lease epoch " +
                          std::to_string(lease.epoch) + ", expires at " +
                          std::to_string(lease.expires_at_ms) +
                          " ms); another process is running on this store");
}

}  // namespace

Bytes encode_lease(const LeaseRecord& lease) {
  codec::TlvWriter fields;
  fields.string(kOwner, lease.owner)
      .u64(kExpiresAtMs, lease.expires_at_ms)
      .u64(kEpoch, lease.epoch);
  return codec::encode_record(kLeaseRecord, fields);
}

util::Result<LeaseRecord> decode_lease(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kLeaseRecord, encoded));
  LeaseRecord lease;
  HASHLOCK_ASSIGN_OR_RETURN(lease.owner, record.fields.string(kOwner));
  HASHLOCK_ASSIGN_OR_RETURN(lease.expires_at_ms, record.fields.u64(kExpiresAtMs));
  HASHLOCK_ASSIGN_OR_RETURN(lease.epoch, record.fields.u64(kEpoch));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return lease;
}

util::Result<StoreLease> StoreLease::acquire(KVStore& store, util::Clock& clock, std::string owner,
                                             uint64_t ttl_ms) {
  if (owner.empty()) return util::invalid_argument("a lease owner id must not be empty");
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> current, store.get(kNamespace, kKey));
  const uint64_t now = clock.now_ms();
  LeaseRecord next{owner, now + ttl_ms, 1};
  if (current) {
    HASHLOCK_ASSIGN_OR_RETURN(LeaseRecord existing, decode_lease(*current));
    if (existing.owner != owner && existing.expires_at_ms > now) return held_by(existing);
    next.epoch = existing.owner == owner ? existing.epoch : existing.epoch + 1;
  }
  WriteBatch batch;
  batch.expect(kNamespace, kKey, current);
  batch.put(kNamespace, kKey, encode_lease(next));
  util::Status written = store.write(batch);
  if (written.code() == util::StatusCode::kConflict) {
    return util::lease_held("another process took the store lease at the same moment");
  }
  HASHLOCK_RETURN_IF_ERROR(written);
  return StoreLease(store, clock, std::move(next), ttl_ms);
}

util::Status StoreLease::replace(const LeaseRecord& next) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> current, store_->get(kNamespace, kKey));
  if (!current) return util::lease_held("the store lease was removed by another process");
  HASHLOCK_ASSIGN_OR_RETURN(LeaseRecord existing, decode_lease(*current));
  if (existing.owner != record_.owner || existing.epoch != record_.epoch) return held_by(existing);
  WriteBatch batch;
  batch.expect(kNamespace, kKey, current);
  batch.put(kNamespace, kKey, encode_lease(next));
  util::Status written = store_->write(batch);
  if (written.code() == util::StatusCode::kConflict) {
    return util::lease_held("another process took the store lease");
  }
  HASHLOCK_RETURN_IF_ERROR(written);
  record_ = next;
  return util::Status::ok();
}

util::Status StoreLease::renew() {
  LeaseRecord next = record_;
  next.expires_at_ms = clock_->now_ms() + ttl_ms_;
  return replace(next);
}

util::Status StoreLease::release() {
  LeaseRecord next = record_;
  next.expires_at_ms = clock_->now_ms();
  return replace(next);
}

}  // namespace hashlock::store
