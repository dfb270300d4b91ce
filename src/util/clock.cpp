#include "util/clock.h"

#include <chrono>

namespace hashlock::util {

uint64_t SystemClock::now_ms() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace hashlock::util
