#include "swap/model.h"

namespace hashlock::swap {

util::Result<SwapStatus> parse_swap_status(uint64_t wire_value) {
  switch (wire_value) {
    case kWireStatusActive:
      return SwapStatus::kActive;
    case kWireStatusFulfilled:
      return SwapStatus::kFulfilled;
    case kWireStatusCompleted:
      return SwapStatus::kCompleted;
    case kWireStatusTimedOut:
      return SwapStatus::kTimedOut;
    default:
      break;  // a raw integer from the wire: any other value is unknown
  }
  return util::unsupported("unknown swap status value " + std::to_string(wire_value) +
                           " (known: 0 Active, 1 Fulfilled, 2 Completed, 3 TimedOut)");
}

uint64_t swap_status_to_wire(SwapStatus status) {
  switch (status) {
    case SwapStatus::kActive:
      return kWireStatusActive;
    case SwapStatus::kFulfilled:
      return kWireStatusFulfilled;
    case SwapStatus::kCompleted:
      return kWireStatusCompleted;
    case SwapStatus::kTimedOut:
      return kWireStatusTimedOut;
  }
  HASHLOCK_CHECK(false, "swap status out of range");
}

std::string_view swap_status_name(SwapStatus status) {
  switch (status) {
    case SwapStatus::kActive:
      return "Active";
    case SwapStatus::kFulfilled:
      return "Fulfilled";
    case SwapStatus::kCompleted:
      return "Completed";
    case SwapStatus::kTimedOut:
      return "TimedOut";
  }
  HASHLOCK_CHECK(false, "swap status out of range");
}

std::string_view call_error_kind_name(CallErrorKind kind) {
  switch (kind) {
    case CallErrorKind::kSwapNotFound:
      return "SwapNotFound";
    case CallErrorKind::kInvalidStatus:
      return "InvalidStatus";
    case CallErrorKind::kNotAssignedMiner:
      return "NotAssignedMiner";
    case CallErrorKind::kMinerNotActive:
      return "MinerNotActive";
    case CallErrorKind::kInvalidAmount:
      return "InvalidAmount";
    case CallErrorKind::kRpcFailure:
      return "RpcFailure";
    case CallErrorKind::kCallFailed:
      return "CallFailed";
    case CallErrorKind::kInsufficientBalance:
      return "InsufficientBalance";
    case CallErrorKind::kTimeout:
      return "Timeout";
    case CallErrorKind::kMalformedResponse:
      return "MalformedResponse";
  }
  HASHLOCK_CHECK(false, "call error kind out of range");
}

std::string CallError::to_string() const {
  return std::string(call_error_kind_name(kind)) + (message.empty() ? "" : ": " + message);
}

}  // namespace hashlock::swap
