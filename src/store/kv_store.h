// KVStore: the durable key-value store under everything hashlock persists.
//
// Data model: namespaces (short lowercase names such as "monitors") hold keys
// (byte strings up to kMaxKeyBytes) mapped to values (byte strings up to
// kMaxValueBytes). Keys list in byte order.
//
// Durability contract:
//  * write(batch, Durability::kSynced) applies the whole batch atomically and
//    returns OK only once the batch, and every write before it, is durable:
//    it survives a crash of the process and of the machine.
//  * write(batch, Durability::kBuffered) applies the batch atomically and
//    makes it visible to reads at once, but it may be lost in a crash until a
//    later sync() or kSynced write returns OK. Batches are never reordered: a
//    crash keeps a prefix of them.
//  * A batch may carry expectations (a key's value, or its absence); if any
//    does not hold, nothing is written and the result is Conflict.
//
// Write groups (group commit): between begin_group() and commit_group(),
// write() does not reach the backend. The operations of every batch collect
// in one group, visible to get() and list() at once (a later put or remove of
// a key replaces an earlier one), and commit_group() writes the group as one
// atomic batch: one transaction, and one sync if any write in it asked for
// kSynced. So a kSynced write inside a group is durable only once
// commit_group() returns OK; whoever opened the group holds back what depends
// on it until then. abandon_group() drops the group (the process stops). A
// batch with expectations is refused inside a group.
//
// Integrity: the store frames every value with a CRC-32C over namespace, key
// and value. A value that fails its check is reported as Corruption naming
// its namespace and key, never as missing.
//
// Thread-safety: a KVStore is used by one thread at a time; callers that
// share one across threads serialise access themselves.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace hashlock::store {

using util::Bytes;
using util::ByteView;

inline constexpr size_t kMaxNamespaceChars = 64;
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxValueBytes = 64 * 1024 * 1024;
inline constexpr size_t kMaxBatchOps = 1'000'000;

enum class Durability { kSynced, kBuffered };

struct Entry {
  std::string key;
  Bytes value;
};

class WriteBatch {
 public:
  enum class OpKind { kPut, kRemove };
  struct Op {
    OpKind kind = OpKind::kPut;
    std::string ns;
    std::string key;
    Bytes value;
  };
  struct Expectation {
    std::string ns;
    std::string key;
    std::optional<Bytes> value;  // nullopt: the key must be absent
  };

  void put(std::string_view ns, std::string_view key, Bytes value);
  void remove(std::string_view ns, std::string_view key);
  // The batch applies only if `key` currently holds `value` (or is absent).
  void expect(std::string_view ns, std::string_view key, std::optional<Bytes> value);

  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<Expectation>& expectations() const { return expectations_; }
  bool empty() const { return ops_.empty() && expectations_.empty(); }
  // Moves the operations out (the batch is empty of them after).
  std::vector<Op> take_ops();
  void clear();
  // Bytes of keys and values the batch writes.
  size_t payload_bytes() const { return payload_bytes_; }

 private:
  std::vector<Op> ops_;
  std::vector<Expectation> expectations_;
  size_t payload_bytes_ = 0;
};

struct StoreStats {
  uint64_t batches_written = 0;
  uint64_t syncs = 0;          // kSynced writes plus sync() calls
  uint64_t bytes_written = 0;  // framed keys and values
  // bytes_written and put/remove operations by namespace.
  struct Namespace {
    uint64_t bytes = 0;
    uint64_t puts = 0;
    uint64_t removes = 0;
  };
  std::map<std::string, Namespace, std::less<>> by_namespace;
};

struct NamespaceReport {
  std::string ns;
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::vector<std::string> corrupt;  // "key: what is wrong"
};

class KVStore {
 public:
  virtual ~KVStore() = default;
  KVStore(const KVStore&) = delete;
  KVStore& operator=(const KVStore&) = delete;

  util::Result<std::optional<Bytes>> get(std::string_view ns, std::string_view key);
  // Every entry of `ns` whose key starts with `prefix`, in key order.
  util::Result<std::vector<Entry>> list(std::string_view ns, std::string_view prefix = {});
  util::Result<std::vector<std::string>> list_namespaces();

  util::Status write(const WriteBatch& batch, Durability durability = Durability::kSynced);
  // The same; inside a group, the values move into it instead of being copied.
  util::Status write(WriteBatch&& batch, Durability durability = Durability::kSynced);
  util::Status put(std::string_view ns, std::string_view key, Bytes value,
                   Durability durability = Durability::kSynced);
  util::Status remove(std::string_view ns, std::string_view key,
                      Durability durability = Durability::kSynced);
  // Makes every write before it durable.
  util::Status sync();

  // Group commit (above). Groups do not nest.
  void begin_group();
  util::Status commit_group();
  void abandon_group();
  bool in_group() const { return group_open_; }

  // Verifies every stored value (frame checksum, and the record checksum of
  // values that are records) without stopping at the first bad one.
  util::Result<std::vector<NamespaceReport>> check();

  const std::string& url() const { return url_; }
  const StoreStats& stats() const { return stats_; }

 protected:
  explicit KVStore(std::string url) : url_(std::move(url)) {}

  // Backends store and return framed values; the base class frames, checks
  // and validates. Batches handed to do_write are already validated.
  virtual util::Result<std::optional<Bytes>> do_get(const std::string& ns,
                                                    const std::string& key) = 0;
  virtual util::Result<std::vector<Entry>> do_list(const std::string& ns,
                                                   const std::string& prefix) = 0;
  virtual util::Result<std::vector<std::string>> do_list_namespaces() = 0;
  virtual util::Status do_write(const WriteBatch& framed, Durability durability) = 0;
  virtual util::Status do_sync() = 0;

 private:
  util::Status add_to_group(std::vector<WriteBatch::Op> ops, Durability durability);
  void count_written(const WriteBatch& framed, Durability durability);

  std::string url_;
  StoreStats stats_;
  bool group_open_ = false;
  bool group_wants_sync_ = false;
  // The open group by namespace and key: the value, or nullopt for a removal.
  std::map<std::string, std::map<std::string, std::optional<Bytes>>> group_;
};

// Frames a value as stored: u32 CRC-32C(ns, key, value) then the value.
Bytes frame_value(std::string_view ns, std::string_view key, ByteView value);
// Checks and strips the frame; Corruption names ns/key.
util::Result<Bytes> unframe_value(std::string_view ns, std::string_view key, ByteView framed);

util::Status validate_namespace(std::string_view ns);
util::Status validate_key(std::string_view key);

// The smallest string greater than every string with this prefix, or nullopt
// when there is none (the prefix is empty or all 0xff).
std::optional<std::string> prefix_upper_bound(std::string_view prefix);

// A printable form of a key: itself if printable, hex otherwise.
std::string printable_key(std::string_view key);

}  // namespace hashlock::store
