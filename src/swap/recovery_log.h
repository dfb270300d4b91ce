// The recovery log: an append-only JSON Lines file, one object per line, for
// every case where a miner's funds may be stuck and an operator must look.
//
// Purpose: the operator's to-do list. Each entry names its incident (one per
// swap, see incident_for()); the fulfiller writes at most one entry per incident.
// Exactly-once across crashes works in two steps (see fulfiller.cpp):
//  1. if the sink does not already contain the incident, append the entry
//     (the file sink fsyncs before returning);
//  2. record in the send journal, with a synced write, that it was logged.
// A crash between 1 and 2 leaves the entry in the log but not the flag; on
// restart the sink, which indexes the incidents already in the file when it
// opens, reports contains() and step 1 is skipped. A crash during 1 can leave
// a torn last line without its newline: it was never acknowledged, so the
// file sink cuts it off when it opens and the entry is appended again.
// Ownership: a sink owns its file descriptor / entries.
// Thread-safety: none; one miner appends from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "swap/model.h"
#include "swap/send_journal.h"

namespace hashlock::swap {

// The longest line the reader accepts (a guard against reading garbage).
inline constexpr size_t kMaxRecoveryLineBytes = 16 * 1024;

struct RecoveryEntry {
  uint64_t timestamp_ms = 0;
  BlockHeight block;
  SwapId swap_id;
  std::string incident;  // incident_for(): one incident per swap
  std::string source_chain;
  std::string dest_chain;
  TxHash source_tx_hash;
  TxHash dest_tx_hash;
  BaseUnits dest_amount;
  BlockHeight timeout_block;
  RecoveryReason reason = RecoveryReason::kTimedOutAfterSend;
  std::string detail;
};

// "swap-<id>-<first 16 hex digits of the payment's tx id>": one incident per
// swap (a swap has one payment), and distinct even when a simulated network
// restarts its swap ids.
std::string incident_for(SwapId id, const TxHash& payment_tx_id);
// One JSON object, no trailing newline.
std::string encode_recovery_line(const RecoveryEntry& entry);
util::Result<RecoveryEntry> parse_recovery_line(std::string_view line);
// Every entry of a JSON Lines file; a malformed line is an InvalidArgument
// naming the file and its 1-based line number.
util::Result<std::vector<RecoveryEntry>> read_recovery_log(const std::string& path);

class RecoveryLogSink {
 public:
  virtual ~RecoveryLogSink() = default;
  virtual bool contains(const std::string& incident) const = 0;
  // Appends one entry durably (OK means it survives a crash).
  virtual util::Status append(const RecoveryEntry& entry) = 0;
};

// The file sink the miner uses: append + fsync per entry.
class FileRecoveryLog final : public RecoveryLogSink {
 public:
  // Opens (creating) the file, cuts off a torn last line, and indexes the
  // incidents already logged. A malformed complete line is an error.
  static util::Result<std::unique_ptr<FileRecoveryLog>> open(const std::string& path);
  ~FileRecoveryLog() override;
  FileRecoveryLog(const FileRecoveryLog&) = delete;
  FileRecoveryLog& operator=(const FileRecoveryLog&) = delete;

  bool contains(const std::string& incident) const override {
    return incidents_.contains(incident);
  }
  util::Status append(const RecoveryEntry& entry) override;

 private:
  FileRecoveryLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
  std::set<std::string> incidents_;
};

// An in-memory sink for tests and the simulator: it survives simulated
// crashes (it plays the file on disk) and can fail appends on demand.
class MemoryRecoveryLog final : public RecoveryLogSink {
 public:
  bool contains(const std::string& incident) const override;
  util::Status append(const RecoveryEntry& entry) override;

  // The next `count` appends fail with IOError and write nothing.
  void fail_next_appends(uint64_t count) { failures_left_ = count; }
  const std::vector<RecoveryEntry>& entries() const { return entries_; }
  uint64_t failed_appends() const { return failed_appends_; }

 private:
  std::vector<RecoveryEntry> entries_;
  uint64_t failures_left_ = 0;
  uint64_t failed_appends_ = 0;
};

}  // namespace hashlock::swap
