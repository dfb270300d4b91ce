#include "swap/recovery_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace hashlock::swap {
namespace {

util::Status errno_error(const std::string& what, const std::string& path) {
  return util::io_error("recovery log " + path + ": " + what + ": " + std::strerror(errno));
}

template <typename T>
util::Result<T> json_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end())
    return util::invalid_argument(std::string("missing field '") + name + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return util::invalid_argument(std::string("field '") + name + "' has the wrong type");
  }
}

util::Result<TxHash> hash_field(const nlohmann::json& object, const char* name) {
  HASHLOCK_ASSIGN_OR_RETURN(std::string hex, json_field<std::string>(object, name));
  auto hash = TxHash::from_hex(hex);
  if (!hash.is_ok()) return hash.status().with_context(std::string("field '") + name + "'");
  return hash;
}

util::Result<RecoveryEntry> entry_from_json(const nlohmann::json& object) {
  if (!object.is_object()) return util::invalid_argument("not a JSON object");
  RecoveryEntry entry;
  HASHLOCK_ASSIGN_OR_RETURN(entry.timestamp_ms, json_field<uint64_t>(object, "timestamp_ms"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t block, json_field<uint64_t>(object, "block"));
  entry.block = BlockHeight(block);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t swap_id, json_field<uint64_t>(object, "swap_id"));
  entry.swap_id = SwapId(swap_id);
  HASHLOCK_ASSIGN_OR_RETURN(entry.incident, json_field<std::string>(object, "incident"));
  HASHLOCK_ASSIGN_OR_RETURN(entry.source_chain, json_field<std::string>(object, "source_chain"));
  HASHLOCK_ASSIGN_OR_RETURN(entry.dest_chain, json_field<std::string>(object, "dest_chain"));
  HASHLOCK_ASSIGN_OR_RETURN(entry.source_tx_hash, hash_field(object, "source_tx_hash"));
  HASHLOCK_ASSIGN_OR_RETURN(entry.dest_tx_hash, hash_field(object, "dest_tx_hash"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, json_field<uint64_t>(object, "dest_amount"));
  entry.dest_amount = BaseUnits(amount);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t timeout, json_field<uint64_t>(object, "timeout_block"));
  entry.timeout_block = BlockHeight(timeout);
  HASHLOCK_ASSIGN_OR_RETURN(std::string reason, json_field<std::string>(object, "reason"));
  HASHLOCK_ASSIGN_OR_RETURN(entry.reason, parse_recovery_reason(reason));
  HASHLOCK_ASSIGN_OR_RETURN(entry.detail, json_field<std::string>(object, "detail"));
  return entry;
}

// Reads the whole file; cuts nothing.
util::Result<std::string> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::not_found("recovery log " + path + ": cannot open for reading");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

util::Result<std::vector<RecoveryEntry>> parse_lines(const std::string& text,
                                                     const std::string& path) {
  std::vector<RecoveryEntry> entries;
  size_t start = 0;
  for (size_t line_number = 1; start < text.size(); ++line_number) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    auto entry = parse_recovery_line(line);
    if (!entry.is_ok()) {
      return util::invalid_argument(path + ":" + std::to_string(line_number) +
                                    ": malformed recovery entry: " + entry.status().message());
    }
    entries.push_back(std::move(entry).value());
  }
  return entries;
}

}  // namespace

std::string incident_for(SwapId id, const TxHash& payment_tx_id) {
  return "swap-" + std::to_string(id.value()) + "-" + payment_tx_id.to_hex().substr(0, 16);
}

std::string encode_recovery_line(const RecoveryEntry& entry) {
  nlohmann::ordered_json object = {
      {"timestamp_ms", entry.timestamp_ms},
      {"block", entry.block.value()},
      {"swap_id", entry.swap_id.value()},
      {"incident", entry.incident},
      {"reason", std::string(recovery_reason_name(entry.reason))},
      {"source_chain", entry.source_chain},
      {"dest_chain", entry.dest_chain},
      {"source_tx_hash", entry.source_tx_hash.to_hex()},
      {"dest_tx_hash", entry.dest_tx_hash.to_hex()},
      {"dest_amount", entry.dest_amount.value()},
      {"timeout_block", entry.timeout_block.value()},
      {"detail", entry.detail},
  };
  return object.dump();
}

util::Result<RecoveryEntry> parse_recovery_line(std::string_view line) {
  if (line.size() > kMaxRecoveryLineBytes) {
    return util::invalid_argument("line longer than " + std::to_string(kMaxRecoveryLineBytes) +
                                  " bytes");
  }
  nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return util::invalid_argument("not valid JSON");
  return entry_from_json(object);
}

util::Result<std::vector<RecoveryEntry>> read_recovery_log(const std::string& path) {
  HASHLOCK_ASSIGN_OR_RETURN(std::string text, read_all(path));
  return parse_lines(text, path);
}

util::Result<std::unique_ptr<FileRecoveryLog>> FileRecoveryLog::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot open", path);
  std::unique_ptr<FileRecoveryLog> log(new FileRecoveryLog(path, fd));
  HASHLOCK_ASSIGN_OR_RETURN(std::string text, read_all(path));
  const size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  if (complete != text.size()) {  // a torn, never acknowledged append
    if (::ftruncate(fd, static_cast<off_t>(complete)) != 0)
      return errno_error("cannot cut a torn line", path);
    if (::fsync(fd) != 0) return errno_error("fsync", path);
    text.resize(complete);
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<RecoveryEntry> entries, parse_lines(text, path));
  for (const RecoveryEntry& entry : entries) log->incidents_.insert(entry.incident);
  return log;
}

FileRecoveryLog::~FileRecoveryLog() {
  if (fd_ >= 0) ::close(fd_);
}

util::Status FileRecoveryLog::append(const RecoveryEntry& entry) {
  const std::string line = encode_recovery_line(entry) + "\n";
  const off_t size_before = ::lseek(fd_, 0, SEEK_END);
  if (size_before < 0) return errno_error("cannot find the end", path_);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      util::Status failed = errno_error("append failed", path_);
      if (::ftruncate(fd_, size_before) != 0)
        return failed.with_context("and cutting the partial line failed");
      return failed;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) return errno_error("fsync failed", path_);
  incidents_.insert(entry.incident);
  return util::Status::ok();
}

bool MemoryRecoveryLog::contains(const std::string& incident) const {
  for (const RecoveryEntry& entry : entries_) {
    if (entry.incident == incident) return true;
  }
  return false;
}

util::Status MemoryRecoveryLog::append(const RecoveryEntry& entry) {
  if (failures_left_ > 0) {
    --failures_left_;
    ++failed_appends_;
    return util::io_error("recovery log: injected write failure");
  }
  entries_.push_back(entry);
  return util::Status::ok();
}

}  // namespace hashlock::swap
