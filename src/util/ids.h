// Small strongly typed integers: HTLC ids and block heights.
//
// They do not mix with each other or with plain integers by accident.
// Thread-safety: value types.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace hashlock::util {

// The id of an HTLC within one channel direction, assigned by its offerer.
class HtlcId {
 public:
  constexpr HtlcId() = default;
  constexpr explicit HtlcId(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr auto operator<=>(const HtlcId&) const = default;
  std::string to_string() const { return "htlc#" + std::to_string(value_); }

 private:
  uint64_t value_ = 0;
};

// A block height on some chain. Differences are signed: a deadline may lie
// in the past.
class BlockHeight {
 public:
  constexpr BlockHeight() = default;
  constexpr explicit BlockHeight(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr auto operator<=>(const BlockHeight&) const = default;
  // this - other, as a signed number of blocks.
  constexpr int64_t blocks_after(BlockHeight other) const {
    return static_cast<int64_t>(value_) - static_cast<int64_t>(other.value_);
  }
  std::string to_string() const { return std::to_string(value_); }

 private:
  uint64_t value_ = 0;
};

}  // namespace hashlock::util
