// MemoryStore: an in-memory KVStore that loses what was not synced, on purpose.
//
// It models a disk: `durable` holds what survived the last sync; batches
// written since then are kept in order apart from it. crash() is a power cut:
// it drops every unsynced batch, or, in torn mode, keeps a seeded random
// prefix of them (never a reordering), and then the store works again as
// after a reboot. Faults are deterministic for a given seed:
//  * fail_write_at(n) / fail_sync_at(n): the n-th write or sync from now
//    (1-based) fails with IOError and changes nothing;
//  * go_down_after(n): after n more operations (writes and syncs) have taken
//    effect, the store is "down": every operation fails with IOError until
//    crash() is called. This is how tests stop a process at a persistence
//    point.
// Thread-safety: none.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/kv_store.h"
#include "util/random.h"

namespace hashlock::store {

struct MemoryStoreOptions {
  uint64_t seed = 1;
  bool torn_crash = false;  // crash() keeps a random prefix of unsynced batches
};

class MemoryStore final : public KVStore {
 public:
  explicit MemoryStore(MemoryStoreOptions options = {});

  void crash();
  void fail_write_at(uint64_t n) { fail_write_countdown_ = n; }
  void fail_sync_at(uint64_t n) { fail_sync_countdown_ = n; }
  void go_down_after(uint64_t operations) { down_countdown_ = operations; }
  bool is_down() const { return down_; }

  size_t unsynced_batches() const { return unsynced_.size(); }
  uint64_t operations() const { return operations_; }
  // Flips one bit of a stored (framed) value, durable and visible alike.
  util::Status corrupt_bit(std::string_view ns, std::string_view key, size_t bit);

 protected:
  util::Result<std::optional<Bytes>> do_get(const std::string& ns, const std::string& key) override;
  util::Result<std::vector<Entry>> do_list(const std::string& ns,
                                           const std::string& prefix) override;
  util::Result<std::vector<std::string>> do_list_namespaces() override;
  util::Status do_write(const WriteBatch& framed, Durability durability) override;
  util::Status do_sync() override;

 private:
  using Table = std::map<std::string, std::map<std::string, Bytes>>;

  util::Status check_up(const char* operation);
  bool countdown_hits(std::optional<uint64_t>& countdown);
  void after_operation();
  static void apply(Table& table, const WriteBatch& batch);

  MemoryStoreOptions options_;
  util::Rng rng_;
  Table durable_;
  Table visible_;
  std::vector<WriteBatch> unsynced_;
  std::optional<uint64_t> fail_write_countdown_;
  std::optional<uint64_t> fail_sync_countdown_;
  std::optional<uint64_t> down_countdown_;
  bool down_ = false;
  uint64_t operations_ = 0;
};

}  // namespace hashlock::store
