#include "util/random.h"

#include "util/amount.h"
#include "util/check.h"

namespace hashlock::util {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t bound) {
  HASHLOCK_CHECK(bound > 0, "Rng::below needs a positive bound");
  // Lemire's nearly divisionless method, with rejection for exact uniformity.
  Uint128 m = static_cast<Uint128>(next_u64()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<Uint128>(next_u64()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

uint64_t Rng::between(uint64_t low, uint64_t high) {
  HASHLOCK_CHECK(low <= high, "Rng::between needs low <= high");
  if (low == 0 && high == UINT64_MAX) return next_u64();
  return low + below(high - low + 1);
}

bool Rng::chance(double probability) {
  if (probability <= 0.0) return false;
  if (probability >= 1.0) return true;
  // 53 random bits as a fraction in [0, 1).
  const double u = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  return u < probability;
}

Rng Rng::fork() {
  return Rng(next_u64());
}

}  // namespace hashlock::util
