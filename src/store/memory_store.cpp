#include "store/memory_store.h"

namespace hashlock::store {

MemoryStore::MemoryStore(MemoryStoreOptions options)
    : KVStore("memory:"), options_(options), rng_(options.seed) {}

void MemoryStore::apply(Table& table, const WriteBatch& batch) {
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::OpKind::kPut) {
      table[op.ns][op.key] = op.value;
      continue;
    }
    auto ns = table.find(op.ns);
    if (ns == table.end()) continue;
    ns->second.erase(op.key);
    if (ns->second.empty()) table.erase(ns);
  }
}

void MemoryStore::crash() {
  size_t keep = 0;
  if (options_.torn_crash && !unsynced_.empty()) keep = rng_.below(unsynced_.size() + 1);
  for (size_t i = 0; i < keep; ++i) apply(durable_, unsynced_[i]);
  unsynced_.clear();
  visible_ = durable_;
  down_ = false;
  down_countdown_.reset();
}

util::Status MemoryStore::check_up(const char* operation) {
  if (down_) {
    return util::io_error(std::string("memory store is down (simulated crash); ") + operation +
                          " refused");
  }
  return util::Status::ok();
}

bool MemoryStore::countdown_hits(std::optional<uint64_t>& countdown) {
  if (!countdown) return false;
  if (*countdown > 1) {
    --*countdown;
    return false;
  }
  countdown.reset();
  return true;
}

void MemoryStore::after_operation() {
  ++operations_;
  if (countdown_hits(down_countdown_)) down_ = true;
}

util::Result<std::optional<Bytes>> MemoryStore::do_get(const std::string& ns,
                                                       const std::string& key) {
  HASHLOCK_RETURN_IF_ERROR(check_up("get"));
  auto table = visible_.find(ns);
  if (table == visible_.end()) return std::optional<Bytes>();
  auto it = table->second.find(key);
  if (it == table->second.end()) return std::optional<Bytes>();
  return std::optional<Bytes>(it->second);
}

util::Result<std::vector<Entry>> MemoryStore::do_list(const std::string& ns,
                                                      const std::string& prefix) {
  HASHLOCK_RETURN_IF_ERROR(check_up("list"));
  std::vector<Entry> out;
  auto table = visible_.find(ns);
  if (table == visible_.end()) return out;
  for (auto it = table->second.lower_bound(prefix);
       it != table->second.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(Entry{it->first, it->second});
  }
  return out;
}

util::Result<std::vector<std::string>> MemoryStore::do_list_namespaces() {
  HASHLOCK_RETURN_IF_ERROR(check_up("list namespaces"));
  std::vector<std::string> out;
  for (const auto& [ns, table] : visible_) out.push_back(ns);
  return out;
}

util::Status MemoryStore::do_write(const WriteBatch& framed, Durability durability) {
  HASHLOCK_RETURN_IF_ERROR(check_up("write"));
  if (countdown_hits(fail_write_countdown_))
    return util::io_error("memory store: injected write failure");
  for (const auto& expectation : framed.expectations()) {
    std::optional<Bytes> current = do_get(expectation.ns, expectation.key).value();
    if (current != expectation.value) {
      return util::conflict("store: " + expectation.ns + "/" + printable_key(expectation.key) +
                            " changed under this writer");
    }
  }
  apply(visible_, framed);
  unsynced_.push_back(framed);
  after_operation();
  if (durability == Durability::kSynced) {
    if (down_) return util::io_error("memory store went down before the sync");
    return do_sync();
  }
  return util::Status::ok();
}

util::Status MemoryStore::do_sync() {
  HASHLOCK_RETURN_IF_ERROR(check_up("sync"));
  if (countdown_hits(fail_sync_countdown_))
    return util::io_error("memory store: injected sync failure");
  for (const WriteBatch& batch : unsynced_) apply(durable_, batch);
  unsynced_.clear();
  after_operation();
  return util::Status::ok();
}

util::Status MemoryStore::corrupt_bit(std::string_view ns, std::string_view key, size_t bit) {
  bool found = false;
  for (Table* table : {&durable_, &visible_}) {
    auto space = table->find(std::string(ns));
    if (space == table->end()) continue;
    auto it = space->second.find(std::string(key));
    if (it == space->second.end() || bit / 8 >= it->second.size()) continue;
    it->second[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    found = true;
  }
  return found ? util::Status::ok() : util::not_found("no value at that bit to corrupt");
}

}  // namespace hashlock::store
