#include "tests/support/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "util/check.h"

namespace hashlock::testsupport {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  HASHLOCK_CHECK(mkdtemp(buffer.data()) != nullptr, "cannot create a temporary directory");
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace hashlock::testsupport
