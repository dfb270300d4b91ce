// AmountMsat: an amount of money in millisatoshis.
//
// A strong integer type: it never converts implicitly to or from a number and
// never uses floating point. Addition, subtraction and scaling are checked:
// leaving the range [0, 2^64) is an Overflow error, never a wrap. Comparison
// is free. Thread-safety: a plain value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace hashlock::util {

class AmountMsat {
 public:
  constexpr AmountMsat() = default;
  constexpr explicit AmountMsat(uint64_t msat) : msat_(msat) {}

  static constexpr AmountMsat zero() { return AmountMsat(); }
  // Whole satoshis; fails when the result does not fit.
  static Result<AmountMsat> from_sat(uint64_t sat);

  constexpr uint64_t msat() const { return msat_; }

  Result<AmountMsat> checked_add(AmountMsat other) const;
  Result<AmountMsat> checked_sub(AmountMsat other) const;
  Result<AmountMsat> checked_mul(uint64_t factor) const;
  // floor(msat * numerator / denominator) computed without intermediate overflow.
  Result<AmountMsat> checked_mul_div(uint64_t numerator, uint64_t denominator) const;

  constexpr auto operator<=>(const AmountMsat&) const = default;

  std::string to_string() const;  // "1234msat"

 private:
  uint64_t msat_ = 0;
};

}  // namespace hashlock::util
