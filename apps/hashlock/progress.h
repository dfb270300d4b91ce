// ProgressBar: a one-line progress display on stderr for long runs, shown
// only when stderr is a terminal, so logs and pipes stay clean.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace hashlock::app {

class ProgressBar {
 public:
  ProgressBar(std::string what, uint64_t total)
      : what_(std::move(what)), total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

  void update(uint64_t done) {
    if (!enabled_ || total_ == 0) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(done * kWidth / total_);
    std::fprintf(stderr, "\r[%.*s%*s] %llu/%llu %s", filled,
                 "==============================", kWidth - filled, "",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 what_.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\r%*s\r", 60 + static_cast<int>(what_.size()), "");
  }

 private:
  std::string what_;
  uint64_t total_;
  bool enabled_;
};

}  // namespace hashlock::app
