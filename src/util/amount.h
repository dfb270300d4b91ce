// Amounts of money as strong integer types.
//
// Amount<Unit> counts whole units of one currency unit: AmountMsat counts
// millisatoshis (the Lightning side), BaseUnits counts a chain's smallest
// unit (satoshis, wei, ...; the swap side). They never convert implicitly to
// each other or to plain numbers, and never use floating point. Addition,
// subtraction and scaling are checked: leaving the range [0, 2^64) is an
// Overflow error, never a wrap. Thread-safety: plain value types.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace hashlock::util {

__extension__ typedef unsigned __int128 Uint128;  // GCC and clang both have it

template <typename Unit>
class Amount {
 public:
  constexpr Amount() = default;
  constexpr explicit Amount(uint64_t units) : units_(units) {}

  static constexpr Amount zero() { return Amount(); }

  constexpr uint64_t value() const { return units_; }

  Result<Amount> checked_add(Amount other) const {
    uint64_t sum = 0;
    if (__builtin_add_overflow(units_, other.units_, &sum)) {
      return overflow("amount " + to_string() + " + " + other.to_string() + " overflows");
    }
    return Amount(sum);
  }
  Result<Amount> checked_sub(Amount other) const {
    if (other.units_ > units_) {
      return overflow("amount " + to_string() + " - " + other.to_string() + " is negative");
    }
    return Amount(units_ - other.units_);
  }
  Result<Amount> checked_mul(uint64_t factor) const {
    uint64_t product = 0;
    if (__builtin_mul_overflow(units_, factor, &product)) {
      return overflow("amount " + to_string() + " * " + std::to_string(factor) + " overflows");
    }
    return Amount(product);
  }
  // floor(amount * numerator / denominator), without intermediate overflow.
  Result<Amount> checked_mul_div(uint64_t numerator, uint64_t denominator) const {
    if (denominator == 0) return invalid_argument("amount scaled by a zero denominator");
    const Uint128 wide = static_cast<Uint128>(units_) * numerator / denominator;
    if (wide > UINT64_MAX) {
      return overflow("amount " + to_string() + " * " + std::to_string(numerator) + " / " +
                      std::to_string(denominator) + " overflows");
    }
    return Amount(static_cast<uint64_t>(wide));
  }

  constexpr auto operator<=>(const Amount&) const = default;

  std::string to_string() const { return std::to_string(units_) + Unit::kSuffix; }

 private:
  uint64_t units_ = 0;
};

struct MsatUnit {
  static constexpr const char* kSuffix = "msat";
};
struct BaseUnit {
  static constexpr const char* kSuffix = " units";
};

using AmountMsat = Amount<MsatUnit>;
using BaseUnits = Amount<BaseUnit>;

// Whole satoshis as millisatoshis; fails when the result does not fit.
inline Result<AmountMsat> msat_from_sat(uint64_t sat) {
  return AmountMsat(sat).checked_mul(1000);
}

}  // namespace hashlock::util
