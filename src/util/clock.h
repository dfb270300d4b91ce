// Clock: the only way the engine learns the time.
//
// The core never reads the OS clock directly; it is handed a Clock, so the
// simulator can drive time. SystemClock reads the real wall clock; ManualClock
// moves only when told. Thread-safety: SystemClock is thread-safe;
// ManualClock is not.
#pragma once

#include <cstdint>

namespace hashlock::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (or since the simulation began).
  virtual uint64_t now_ms() = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t now_ms() override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ms = 0) : now_ms_(start_ms) {}
  uint64_t now_ms() override { return now_ms_; }
  void advance_ms(uint64_t ms) { now_ms_ += ms; }

 private:
  uint64_t now_ms_ = 0;
};

}  // namespace hashlock::util
