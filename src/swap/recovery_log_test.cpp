#include "swap/recovery_log.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace hashlock::swap {
namespace {

RecoveryEntry entry(uint64_t id, RecoveryReason reason = RecoveryReason::kTimedOutAfterSend) {
  RecoveryEntry e;
  e.timestamp_ms = 1'700'000'000'000;
  e.block = BlockHeight(150);
  e.swap_id = SwapId(id);
  e.incident = "swap-" + std::to_string(id);
  e.source_chain = "btc-sim";
  e.dest_chain = "eth-sim";
  e.source_tx_hash = TxHash(util::sha256(util::as_bytes("s")));
  e.dest_tx_hash = TxHash(util::sha256(util::as_bytes("d")));
  e.dest_amount = BaseUnits(2'000);
  e.timeout_block = BlockHeight(140);
  e.reason = reason;
  e.detail = "test";
  return e;
}

TEST(RecoveryLog, LineHasEveryFieldOfTheSpecAndRoundTrips) {
  const std::string line = encode_recovery_line(entry(7, RecoveryReason::kUnknownSendOutcome));
  for (const char* field :
       {"timestamp_ms", "block", "swap_id", "source_chain", "dest_chain", "source_tx_hash",
        "dest_tx_hash", "dest_amount", "timeout_block", "reason"}) {
    EXPECT_NE(line.find(std::string("\"") + field + "\""), std::string::npos) << field;
  }
  EXPECT_NE(line.find("unknown_send_outcome"), std::string::npos);
  auto parsed = parse_recovery_line(line);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->swap_id, SwapId(7));
  EXPECT_EQ(parsed->reason, RecoveryReason::kUnknownSendOutcome);
  EXPECT_EQ(parsed->dest_tx_hash, entry(7).dest_tx_hash);
}

TEST(RecoveryLog, FileAppendsOneLinePerEntryAndReopenKnowsTheIncidents) {
  testsupport::TempDir dir;
  const std::string path = dir.file("recovery.jsonl");
  {
    auto log = FileRecoveryLog::open(path);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    ASSERT_TRUE((*log)->append(entry(1)).is_ok());
    ASSERT_TRUE((*log)->append(entry(2)).is_ok());
    EXPECT_TRUE((*log)->contains("swap-1"));
  }
  auto reopened = FileRecoveryLog::open(path);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_TRUE((*reopened)->contains("swap-2"));
  EXPECT_FALSE((*reopened)->contains("swap-3"));
  auto entries = read_recovery_log(path);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ(entries->size(), 2u);
}

TEST(RecoveryLog, TornLastLineIsCutOnOpen) {
  testsupport::TempDir dir;
  const std::string path = dir.file("recovery.jsonl");
  {
    std::ofstream out(path);
    out << encode_recovery_line(entry(1)) << "\n" << encode_recovery_line(entry(2)).substr(0, 30);
  }
  auto log = FileRecoveryLog::open(path);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  EXPECT_TRUE((*log)->contains("swap-1"));
  EXPECT_FALSE((*log)->contains("swap-2")) << "a torn append was never acknowledged";
  ASSERT_TRUE((*log)->append(entry(2)).is_ok());
  EXPECT_EQ(read_recovery_log(path)->size(), 2u);
}

TEST(RecoveryLog, MalformedLineIsAnErrorNamingItsLineNumber) {
  testsupport::TempDir dir;
  const std::string path = dir.file("recovery.jsonl");
  {
    std::ofstream out(path);
    out << encode_recovery_line(entry(1)) << "\n{\"swap_id\": \"x\"}\n";
  }
  auto entries = read_recovery_log(path);
  ASSERT_FALSE(entries.is_ok());
  EXPECT_NE(entries.status().message().find("recovery.jsonl:2:"), std::string::npos)
      << entries.status().message();
  EXPECT_FALSE(FileRecoveryLog::open(path).is_ok()) << "the miner does not start on a damaged log";
}

TEST(RecoveryLog, MissingFileIsNotFound) {
  EXPECT_EQ(read_recovery_log("/nonexistent/recovery.jsonl").status().code(),
            util::StatusCode::kNotFound);
}

// A file that may not grow (RLIMIT_FSIZE): the append fails part-way, is
// reported as IOError, and leaves no partial line behind.
TEST(RecoveryLog, LogWriteFailureOnAFileIsReportedAndLeavesNoPartialLine) {
  testsupport::TempDir dir;
  const std::string path = dir.file("recovery.jsonl");
  auto log = FileRecoveryLog::open(path);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  ASSERT_TRUE((*log)->append(entry(1)).is_ok());
  const auto size = std::filesystem::file_size(path);
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = static_cast<rlim_t>(size + 10);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  util::Status appended = (*log)->append(entry(2));
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(appended.code(), util::StatusCode::kIOError) << appended.to_string();
  EXPECT_FALSE((*log)->contains("swap-2"));
  EXPECT_EQ(std::filesystem::file_size(path), size) << "the partial line was cut off";
  EXPECT_TRUE((*log)->append(entry(2)).is_ok());
  EXPECT_EQ(read_recovery_log(path)->size(), 2u);
}

TEST(RecoveryLog, MemorySinkFailsOnDemandAndWritesNothing) {
  MemoryRecoveryLog log;
  log.fail_next_appends(1);
  EXPECT_FALSE(log.append(entry(1)).is_ok());
  EXPECT_FALSE(log.contains("swap-1"));
  EXPECT_TRUE(log.append(entry(1)).is_ok());
  EXPECT_TRUE(log.contains("swap-1"));
  EXPECT_EQ(log.failed_appends(), 1u);
}

}  // namespace
}  // namespace hashlock::swap
