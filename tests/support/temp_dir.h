// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its
// contents on destruction. Thread-safety: none.
#pragma once

#include <string>

namespace hashlock::testsupport {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "hashlock");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace hashlock::testsupport
