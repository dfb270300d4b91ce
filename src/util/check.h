// Invariant checks that stay compiled in, in every build type.
//
// HASHLOCK_CHECK guards a programmer's invariant: if it fails, the process
// state is wrong and continuing could lose money, so it aborts with the
// condition, the file and line, and a message. Never use it to check input:
// input errors are Status values.
#pragma once

namespace hashlock::util {
[[noreturn]] void check_failed(const char* condition, const char* file, int line,
                               const char* message);
}  // namespace hashlock::util

#define HASHLOCK_CHECK(condition, message)                                       \
  do {                                                                           \
    if (!(condition)) [[unlikely]]                                               \
      ::hashlock::util::check_failed(#condition, __FILE__, __LINE__, (message)); \
  } while (0)
