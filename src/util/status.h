// Status: the outcome of an operation that crosses a module boundary.
//
// A Status is either OK or carries a short code and a message that names what
// went wrong (a key, a field, a position). It is a small value type: copy it,
// return it, compare its code. Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace hashlock::util {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // the caller passed something malformed
  kNotFound,            // a named thing does not exist
  kCorruption,          // stored or received bytes fail their checks
  kUnsupported,         // a version or feature this build does not know
  kIOError,             // the OS or a backend failed
  kConflict,            // a conditional write lost to another writer
  kLeaseHeld,           // another process owns the store
  kOverflow,            // arithmetic would leave the representable range
  kProtocolError,       // a peer broke the protocol
  kUnavailable,         // a remote service did not answer
  kFailedPrecondition,  // the operation is not allowed in the current state
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "Corruption: store: checksum mismatch for monitors/abc".
  std::string to_string() const;

  // Prefixes the message with context, keeping the code.
  Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status corruption(std::string m) {
  return {StatusCode::kCorruption, std::move(m)};
}
inline Status unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status io_error(std::string m) {
  return {StatusCode::kIOError, std::move(m)};
}
inline Status conflict(std::string m) {
  return {StatusCode::kConflict, std::move(m)};
}
inline Status lease_held(std::string m) {
  return {StatusCode::kLeaseHeld, std::move(m)};
}
inline Status overflow(std::string m) {
  return {StatusCode::kOverflow, std::move(m)};
}
inline Status protocol_error(std::string m) {
  return {StatusCode::kProtocolError, std::move(m)};
}
inline Status unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status failed_precondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}

}  // namespace hashlock::util

// Returns early from the enclosing function when `expr` is not OK.
#define HASHLOCK_RETURN_IF_ERROR(expr)                      \
  do {                                                      \
    ::hashlock::util::Status hashlock_status_ = (expr);     \
    if (!hashlock_status_.is_ok()) return hashlock_status_; \
  } while (0)
