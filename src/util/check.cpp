#include "util/check.h"

#include <cstdio>
#include <cstdlib>

namespace hashlock::util {

void check_failed(const char* condition, const char* file, int line, const char* message) {
  std::fprintf(stderr, "hashlock: invariant violated at %s:%d: %s (%s)\n", file, line, message,
               condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace hashlock::util
