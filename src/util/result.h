// Result<T>: a value or the Status that says why there is none.
//
// Accessing the value of an error Result (or the error of an OK one) is a
// programmer error and aborts. Thread-safety: a plain value type.
#pragma once

#include <optional>
#include <utility>

#include "util/check.h"
#include "util/status.h"

namespace hashlock::util {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    HASHLOCK_CHECK(!status_.is_ok(), "an error Result needs a non-OK status");
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    HASHLOCK_CHECK(is_ok(), "value() of an error Result");
    return *value_;
  }
  const T& value() const& {
    HASHLOCK_CHECK(is_ok(), "value() of an error Result");
    return *value_;
  }
  T&& value() && {
    HASHLOCK_CHECK(is_ok(), "value() of an error Result");
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace hashlock::util

#define HASHLOCK_CONCAT_INNER(a, b) a##b
#define HASHLOCK_CONCAT(a, b) HASHLOCK_CONCAT_INNER(a, b)

// HASHLOCK_ASSIGN_OR_RETURN(auto x, expr): binds the value of a Result or
// returns its Status from the enclosing function.
#define HASHLOCK_ASSIGN_OR_RETURN(lhs, expr) \
  HASHLOCK_ASSIGN_OR_RETURN_IMPL(HASHLOCK_CONCAT(hashlock_result_, __LINE__), lhs, expr)
#define HASHLOCK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.is_ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
