// The swap network as the miner sees it: swaps, their status, and the errors
// the contract and the chain clients report.
//
// Purpose: one vocabulary shared by the interfaces, the simulated network and
// the fulfiller. A Swap is a snapshot read from the swap contract; the miner
// never owns the contract's state, it only holds copies.
// Ownership: plain values. Thread-safety: value types, no shared state.
// Invariants:
//  * SwapStatus has exactly the four statuses of the contract; a status value
//    this build does not know is an error from parse_swap_status(), never
//    Active.
//  * Amounts are util::BaseUnits (the chain's base unit), never floating
//    point; the exchange rate is an integer ratio.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "util/amount.h"
#include "util/check.h"
#include "util/hash.h"
#include "util/ids.h"
#include "util/result.h"

namespace hashlock::swap {

using util::BaseUnits;
using util::BlockHeight;

// The contract's id of a swap.
class SwapId {
 public:
  constexpr SwapId() = default;
  constexpr explicit SwapId(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr auto operator<=>(const SwapId&) const = default;
  std::string to_string() const { return "swap#" + std::to_string(value_); }

 private:
  uint64_t value_ = 0;
};

// A transaction hash on any chain (source or destination).
struct TxHashTag {
  static constexpr const char* kName = "transaction hash";
};
using TxHash = util::Bytes32<TxHashTag>;

enum class SwapStatus : uint8_t {
  kActive,     // assigned to one miner, waiting for the destination payment
  kFulfilled,  // the miner called mark_fulfilled
  kCompleted,  // validators confirmed both legs (the contract then removes it)
  kTimedOut,   // past timeout_block unfulfilled or unconfirmed (then removed)
};

// The contract's wire encoding of a status. Unknown values are an error.
inline constexpr uint64_t kWireStatusActive = 0;
inline constexpr uint64_t kWireStatusFulfilled = 1;
inline constexpr uint64_t kWireStatusCompleted = 2;
inline constexpr uint64_t kWireStatusTimedOut = 3;

util::Result<SwapStatus> parse_swap_status(uint64_t wire_value);
uint64_t swap_status_to_wire(SwapStatus status);
std::string_view swap_status_name(SwapStatus status);

// dest_amount = source_amount * numerator / denominator, rounded down.
struct ExchangeRate {
  uint64_t numerator = 1;
  uint64_t denominator = 1;
  auto operator<=>(const ExchangeRate&) const = default;
};

struct Swap {
  SwapId id;
  std::string user;
  std::string miner;
  std::string source_chain;
  std::string dest_chain;
  BaseUnits source_amount;
  BaseUnits dest_amount;
  std::string user_source_address;
  std::string user_dest_address;
  std::string miner_source_address;
  std::string miner_dest_address;
  ExchangeRate rate;
  TxHash source_tx_hash;
  BlockHeight source_tx_block;
  std::optional<TxHash> dest_tx_hash;        // set once Fulfilled
  std::optional<BlockHeight> dest_tx_block;  // set once Fulfilled
  SwapStatus status = SwapStatus::kActive;
  BlockHeight initiated_block;
  BlockHeight timeout_block;
  std::optional<BlockHeight> fulfilled_block;
  std::optional<BlockHeight> completed_block;
};

// Every way a call to the contract or a chain client can fail. The first
// group are the contract's own errors (the call reached the contract and was
// refused, nothing changed); the second are client-side failures.
enum class CallErrorKind : uint8_t {
  // Contract errors.
  kSwapNotFound,
  kInvalidStatus,
  kNotAssignedMiner,
  kMinerNotActive,
  kInvalidAmount,
  // Client-side failures.
  kRpcFailure,           // the call may or may not have landed
  kCallFailed,           // reverted, the contract's reason unknown; nothing changed
  kInsufficientBalance,  // not enough balance for the fee (or the payment)
  kTimeout,              // no answer in time; the call may have landed
  kMalformedResponse,    // an answer this build cannot decode (e.g. unknown status)
};

std::string_view call_error_kind_name(CallErrorKind kind);

struct CallError {
  CallErrorKind kind = CallErrorKind::kRpcFailure;
  std::string message;
  std::string to_string() const;
};

// The empty value of a call that returns nothing but success.
struct Done {};

// The outcome of one call across the network: a value or a CallError.
template <typename T>
class [[nodiscard]] CallResult {
 public:
  CallResult(T value) : outcome_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  CallResult(CallError error)
      : outcome_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(outcome_); }
  const T& value() const& {
    HASHLOCK_CHECK(is_ok(), "value() of a failed call");
    return std::get<T>(outcome_);
  }
  T&& value() && {
    HASHLOCK_CHECK(is_ok(), "value() of a failed call");
    return std::get<T>(std::move(outcome_));
  }
  const CallError& error() const {
    HASHLOCK_CHECK(!is_ok(), "error() of a successful call");
    return std::get<CallError>(outcome_);
  }

 private:
  std::variant<T, CallError> outcome_;
};

inline CallError call_error(CallErrorKind kind, std::string message) {
  return CallError{kind, std::move(message)};
}

}  // namespace hashlock::swap
