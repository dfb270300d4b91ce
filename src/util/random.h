// Rng: a seeded, deterministic pseudo-random generator (xoshiro256**).
//
// The same seed gives the same sequence on every platform and standard
// library, which std::uniform_int_distribution does not promise. Used by the
// simulators and fault injection; not for keys. Thread-safety: none.
#pragma once

#include <cstdint>

namespace hashlock::util {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0.
  uint64_t below(uint64_t bound);
  // Uniform in [low, high], inclusive.
  uint64_t between(uint64_t low, uint64_t high);
  // True with probability `probability` (clamped to [0, 1]).
  bool chance(double probability);
  // A child generator whose stream is independent of this one's future.
  Rng fork();

 private:
  uint64_t state_[4];
};

}  // namespace hashlock::util
