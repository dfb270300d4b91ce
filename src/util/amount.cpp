#include "util/amount.h"

namespace hashlock::util {

__extension__ typedef unsigned __int128 Uint128;  // GCC and clang both have it

Result<AmountMsat> AmountMsat::from_sat(uint64_t sat) {
  return AmountMsat(sat).checked_mul(1000);
}

Result<AmountMsat> AmountMsat::checked_add(AmountMsat other) const {
  uint64_t sum = 0;
  if (__builtin_add_overflow(msat_, other.msat_, &sum)) {
    return overflow("amount " + to_string() + " + " + other.to_string() + " overflows");
  }
  return AmountMsat(sum);
}

Result<AmountMsat> AmountMsat::checked_sub(AmountMsat other) const {
  if (other.msat_ > msat_) {
    return overflow("amount " + to_string() + " - " + other.to_string() + " is negative");
  }
  return AmountMsat(msat_ - other.msat_);
}

Result<AmountMsat> AmountMsat::checked_mul(uint64_t factor) const {
  uint64_t product = 0;
  if (__builtin_mul_overflow(msat_, factor, &product)) {
    return overflow("amount " + to_string() + " * " + std::to_string(factor) + " overflows");
  }
  return AmountMsat(product);
}

Result<AmountMsat> AmountMsat::checked_mul_div(uint64_t numerator, uint64_t denominator) const {
  if (denominator == 0) return invalid_argument("amount scaled by a zero denominator");
  const Uint128 wide =
      static_cast<Uint128>(msat_) * numerator / denominator;
  if (wide > UINT64_MAX) {
    return overflow("amount " + to_string() + " * " + std::to_string(numerator) + " / " +
                    std::to_string(denominator) + " overflows");
  }
  return AmountMsat(static_cast<uint64_t>(wide));
}

std::string AmountMsat::to_string() const { return std::to_string(msat_) + "msat"; }

}  // namespace hashlock::util
