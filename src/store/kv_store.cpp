#include "store/kv_store.h"

#include <cctype>

#include "codec/record.h"
#include "codec/wire.h"
#include "util/check.h"
#include "util/crc32c.h"

namespace hashlock::store {
namespace {

uint32_t frame_checksum(std::string_view ns, std::string_view key, ByteView value) {
  const uint8_t separator = 0;
  uint32_t crc = util::crc32c(util::as_bytes(ns));
  crc = util::crc32c_extend(crc, ByteView(&separator, 1));
  crc = util::crc32c_extend(crc, util::as_bytes(key));
  crc = util::crc32c_extend(crc, ByteView(&separator, 1));
  return util::crc32c_extend(crc, value);
}

std::string where(std::string_view ns, std::string_view key) {
  return std::string(ns) + "/" + printable_key(key);
}

}  // namespace

void WriteBatch::put(std::string_view ns, std::string_view key, Bytes value) {
  payload_bytes_ += key.size() + value.size();
  ops_.push_back(Op{OpKind::kPut, std::string(ns), std::string(key), std::move(value)});
}

void WriteBatch::remove(std::string_view ns, std::string_view key) {
  payload_bytes_ += key.size();
  ops_.push_back(Op{OpKind::kRemove, std::string(ns), std::string(key), {}});
}

void WriteBatch::expect(std::string_view ns, std::string_view key, std::optional<Bytes> value) {
  expectations_.push_back(Expectation{std::string(ns), std::string(key), std::move(value)});
}

std::vector<WriteBatch::Op> WriteBatch::take_ops() {
  std::vector<Op> ops;
  ops.swap(ops_);
  payload_bytes_ = 0;
  return ops;
}

void WriteBatch::clear() {
  ops_.clear();
  expectations_.clear();
  payload_bytes_ = 0;
}

namespace {

// frame_value without a second buffer: the checksum goes in front of `value`.
void frame_in_place(std::string_view ns, std::string_view key, Bytes& value) {
  codec::ByteWriter checksum;
  checksum.u32(frame_checksum(ns, key, value));
  value.insert(value.begin(), checksum.bytes().begin(), checksum.bytes().end());
}

}  // namespace

Bytes frame_value(std::string_view ns, std::string_view key, ByteView value) {
  codec::ByteWriter out;
  out.u32(frame_checksum(ns, key, value));
  out.raw(value);
  return out.take();
}

util::Result<Bytes> unframe_value(std::string_view ns, std::string_view key, ByteView framed) {
  if (framed.size() < 4) {
    return util::corruption("store: value of " + where(ns, key) + " is truncated to " +
                            std::to_string(framed.size()) + " bytes");
  }
  codec::ByteReader in(framed);
  const uint32_t stored = in.u32("checksum").value();
  const ByteView value = framed.subspan(4);
  if (stored != frame_checksum(ns, key, value)) {
    return util::corruption("store: checksum mismatch for " + where(ns, key));
  }
  return Bytes(value.begin(), value.end());
}

util::Status validate_namespace(std::string_view ns) {
  if (ns.empty() || ns.size() > kMaxNamespaceChars) {
    return util::invalid_argument("store: namespace must be 1.." +
                                  std::to_string(kMaxNamespaceChars) + " characters");
  }
  for (char c : ns) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return util::invalid_argument("store: namespace '" + std::string(ns) +
                                    "' may use only a-z, 0-9 and _");
    }
  }
  return util::Status::ok();
}

util::Status validate_key(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    return util::invalid_argument("store: key of " + std::to_string(key.size()) +
                                  " bytes exceeds the limit of " + std::to_string(kMaxKeyBytes));
  }
  return util::Status::ok();
}

std::optional<std::string> prefix_upper_bound(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty()) {
    auto last = static_cast<unsigned char>(upper.back());
    if (last != 0xff) {
      upper.back() = static_cast<char>(last + 1);
      return upper;
    }
    upper.pop_back();
  }
  return std::nullopt;
}

std::string printable_key(std::string_view key) {
  for (char c : key) {
    if (!std::isprint(static_cast<unsigned char>(c)))
      return "0x" + util::to_hex(util::as_bytes(key));
  }
  return std::string(key);
}

util::Result<std::optional<Bytes>> KVStore::get(std::string_view ns, std::string_view key) {
  HASHLOCK_RETURN_IF_ERROR(validate_namespace(ns));
  HASHLOCK_RETURN_IF_ERROR(validate_key(key));
  if (group_open_) {
    auto table = group_.find(std::string(ns));
    if (table != group_.end()) {
      auto it = table->second.find(std::string(key));
      if (it != table->second.end()) return it->second;
    }
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> framed, do_get(std::string(ns), std::string(key)));
  if (!framed) return std::optional<Bytes>();
  HASHLOCK_ASSIGN_OR_RETURN(Bytes value, unframe_value(ns, key, *framed));
  return std::optional<Bytes>(std::move(value));
}

util::Result<std::vector<Entry>> KVStore::list(std::string_view ns, std::string_view prefix) {
  HASHLOCK_RETURN_IF_ERROR(validate_namespace(ns));
  HASHLOCK_RETURN_IF_ERROR(validate_key(prefix));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<Entry> entries,
                            do_list(std::string(ns), std::string(prefix)));
  for (Entry& entry : entries) {
    HASHLOCK_ASSIGN_OR_RETURN(entry.value, unframe_value(ns, entry.key, entry.value));
  }
  if (!group_open_) return entries;
  auto table = group_.find(std::string(ns));
  if (table == group_.end()) return entries;
  // Merge the open group over what the backend holds.
  std::map<std::string, Bytes> merged;
  for (Entry& entry : entries) merged.emplace(std::move(entry.key), std::move(entry.value));
  for (auto it = table->second.lower_bound(std::string(prefix));
       it != table->second.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->second) {
      merged[it->first] = *it->second;
    } else {
      merged.erase(it->first);
    }
  }
  std::vector<Entry> out;
  out.reserve(merged.size());
  for (auto& [key, value] : merged) out.push_back(Entry{key, std::move(value)});
  return out;
}

util::Result<std::vector<std::string>> KVStore::list_namespaces() {
  return do_list_namespaces();
}

util::Status KVStore::write(const WriteBatch& batch, Durability durability) {
  if (batch.ops().size() + batch.expectations().size() > kMaxBatchOps) {
    return util::invalid_argument("store: batch of " + std::to_string(batch.ops().size()) +
                                  " operations exceeds the limit of " +
                                  std::to_string(kMaxBatchOps));
  }
  if (group_open_) {
    if (!batch.expectations().empty())
      return util::failed_precondition("store: a batch with expectations inside a write group");
    return add_to_group(batch.ops(), durability);
  }
  WriteBatch framed;
  for (const auto& op : batch.ops()) {
    HASHLOCK_RETURN_IF_ERROR(validate_namespace(op.ns));
    HASHLOCK_RETURN_IF_ERROR(validate_key(op.key));
    if (op.kind == WriteBatch::OpKind::kRemove) {
      framed.remove(op.ns, op.key);
      continue;
    }
    if (op.value.size() > kMaxValueBytes) {
      return util::invalid_argument("store: value of " + where(op.ns, op.key) + " exceeds " +
                                    std::to_string(kMaxValueBytes) + " bytes");
    }
    framed.put(op.ns, op.key, frame_value(op.ns, op.key, op.value));
  }
  for (const auto& expectation : batch.expectations()) {
    HASHLOCK_RETURN_IF_ERROR(validate_namespace(expectation.ns));
    HASHLOCK_RETURN_IF_ERROR(validate_key(expectation.key));
    std::optional<Bytes> value;
    if (expectation.value) value = frame_value(expectation.ns, expectation.key, *expectation.value);
    framed.expect(expectation.ns, expectation.key, std::move(value));
  }
  HASHLOCK_RETURN_IF_ERROR(do_write(framed, durability));
  count_written(framed, durability);
  return util::Status::ok();
}

util::Status KVStore::write(WriteBatch&& batch, Durability durability) {
  if (!group_open_ || !batch.expectations().empty() || batch.ops().size() > kMaxBatchOps) {
    return write(static_cast<const WriteBatch&>(batch), durability);
  }
  return add_to_group(batch.take_ops(), durability);
}

util::Status KVStore::add_to_group(std::vector<WriteBatch::Op> ops, Durability durability) {
  for (const auto& op : ops) {
    HASHLOCK_RETURN_IF_ERROR(validate_namespace(op.ns));
    HASHLOCK_RETURN_IF_ERROR(validate_key(op.key));
    if (op.value.size() > kMaxValueBytes) {
      return util::invalid_argument("store: value of " + where(op.ns, op.key) + " exceeds " +
                                    std::to_string(kMaxValueBytes) + " bytes");
    }
  }
  for (auto& op : ops) {
    std::optional<Bytes>& slot = group_[op.ns][op.key];
    if (op.kind == WriteBatch::OpKind::kRemove) {
      slot.reset();
    } else {
      slot = std::move(op.value);
    }
  }
  group_wants_sync_ |= durability == Durability::kSynced;
  return util::Status::ok();
}

void KVStore::begin_group() {
  HASHLOCK_CHECK(!group_open_, "store write groups do not nest");
  group_open_ = true;
  group_wants_sync_ = false;
}

void KVStore::abandon_group() {
  group_open_ = false;
  group_wants_sync_ = false;
  group_.clear();
}

util::Status KVStore::commit_group() {
  HASHLOCK_CHECK(group_open_, "commit_group without begin_group");
  std::map<std::string, std::map<std::string, std::optional<Bytes>>> group;
  group.swap(group_);
  const Durability durability = group_wants_sync_ ? Durability::kSynced : Durability::kBuffered;
  abandon_group();
  WriteBatch framed;
  for (auto& [ns, table] : group) {
    for (auto& [key, value] : table) {
      if (value) {
        frame_in_place(ns, key, *value);
        framed.put(ns, key, std::move(*value));
      } else {
        framed.remove(ns, key);
      }
    }
  }
  if (framed.empty()) return util::Status::ok();
  if (framed.ops().size() > kMaxBatchOps) {
    return util::invalid_argument("store: write group of " + std::to_string(framed.ops().size()) +
                                  " operations exceeds the limit of " +
                                  std::to_string(kMaxBatchOps));
  }
  HASHLOCK_RETURN_IF_ERROR(do_write(framed, durability));
  count_written(framed, durability);
  return util::Status::ok();
}

void KVStore::count_written(const WriteBatch& framed, Durability durability) {
  ++stats_.batches_written;
  stats_.bytes_written += framed.payload_bytes();
  if (durability == Durability::kSynced) ++stats_.syncs;
  // A group's operations come sorted by namespace: one lookup per run.
  StoreStats::Namespace* space = nullptr;
  const std::string* space_name = nullptr;
  for (const auto& op : framed.ops()) {
    if (space_name == nullptr || *space_name != op.ns) {
      space = &stats_.by_namespace[op.ns];
      space_name = &op.ns;
    }
    space->bytes += op.key.size() + op.value.size();
    ++(op.kind == WriteBatch::OpKind::kPut ? space->puts : space->removes);
  }
}

util::Status KVStore::put(std::string_view ns, std::string_view key, Bytes value,
                          Durability durability) {
  WriteBatch batch;
  batch.put(ns, key, std::move(value));
  return write(std::move(batch), durability);
}

util::Status KVStore::remove(std::string_view ns, std::string_view key, Durability durability) {
  WriteBatch batch;
  batch.remove(ns, key);
  return write(std::move(batch), durability);
}

util::Status KVStore::sync() {
  HASHLOCK_RETURN_IF_ERROR(do_sync());
  ++stats_.syncs;
  return util::Status::ok();
}

util::Result<std::vector<NamespaceReport>> KVStore::check() {
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<std::string> namespaces, do_list_namespaces());
  std::vector<NamespaceReport> reports;
  for (const std::string& ns : namespaces) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<Entry> entries, do_list(ns, ""));
    NamespaceReport report;
    report.ns = ns;
    for (const Entry& entry : entries) {
      ++report.records;
      report.bytes += entry.value.size();
      auto value = unframe_value(ns, entry.key, entry.value);
      if (!value.is_ok()) {
        report.corrupt.push_back(printable_key(entry.key) + ": " + value.status().message());
        continue;
      }
      auto type = codec::peek_record_type(*value);
      if (!type.is_ok()) {
        report.corrupt.push_back(printable_key(entry.key) + ": " + type.status().message());
      }
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace hashlock::store
