#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store/open_store.h"
#include "tests/support/temp_dir.h"

namespace hashlock::store {
namespace {

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

TEST(SqliteStore, SyncedWritesSurviveAKilledProcess) {
  testsupport::TempDir dir;
  const std::string url = "sqlite:" + dir.file("kill.db");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = open_store(url);
    if (!store.is_ok()) _exit(2);
    for (int i = 0; i < 100; ++i) {
      if (!(*store)->put("ns", "k" + std::to_string(i), bytes_of("v")).is_ok()) _exit(3);
    }
    _exit(0);  // no destructor, no close, no checkpoint: as if killed
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto store = open_store(url);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_EQ((*store)->list("ns")->size(), 100u);
}

TEST(SqliteStore, AbruptCloseKeepsCommittedData) {
  testsupport::TempDir dir;
  SqliteOptions options{.path = dir.file("abrupt.db")};
  {
    auto store = SqliteStore::open(options);
    ASSERT_TRUE(store.is_ok());
    ASSERT_TRUE((*store)->put("ns", "a", bytes_of("1")).is_ok());
    ASSERT_TRUE((*store)->put("ns", "b", bytes_of("2"), Durability::kBuffered).is_ok());
    ASSERT_TRUE((*store)->sync().is_ok());
    (*store)->close_abruptly();
    EXPECT_EQ((*store)->get("ns", "a").status().code(), util::StatusCode::kIOError);
  }
  auto reopened = SqliteStore::open(options);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_TRUE((*reopened)->get("ns", "a")->has_value());
  EXPECT_TRUE((*reopened)->get("ns", "b")->has_value());
}

TEST(SqliteStore, FileThatIsNotADatabaseIsAClearError) {
  testsupport::TempDir dir;
  std::ofstream(dir.file("garbage.db")) << std::string(8192, 'x');
  auto store = open_store("sqlite:" + dir.file("garbage.db"));
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kIOError);
  EXPECT_NE(store.status().message().find("garbage.db"), std::string::npos);
}

TEST(SqliteStore, MissingDirectoryIsAClearError) {
  auto store = open_store("sqlite:/nonexistent-dir/x/store.db");
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("cannot open sqlite store"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::store
