// Per-commitment secrets, generated and stored as in BOLT 3.
//
// The holder derives the secret of every commitment from one seed
// (`secret_for_commitment`). The counterparty's revealed secrets are kept in
// CommitmentSecretStore: at most 49 entries, from which every earlier secret
// can be re-derived, instead of one entry per commitment. insert() checks
// that a new secret is consistent with the ones before it, so a peer that
// reveals a wrong secret is caught. Commitment number n uses shachain index
// 2^48 - 1 - n. Thread-safety: value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "util/hash.h"
#include "util/result.h"

namespace hashlock::ln {

using Secret = util::Sha256Digest;

inline constexpr uint64_t kMaxShachainIndex = (1ULL << 48) - 1;

uint64_t shachain_index(uint64_t commitment_number);
Secret derive_secret(const Secret& seed, uint64_t index);
inline Secret secret_for_commitment(const Secret& seed, uint64_t commitment_number) {
  return derive_secret(seed, shachain_index(commitment_number));
}
// The public "point" for a commitment: here the hash of its secret.
util::Sha256Digest commitment_point(const Secret& secret);

class CommitmentSecretStore {
 public:
  static constexpr size_t kSlots = 49;

  // Secrets must arrive in order of decreasing index (increasing commitment).
  util::Status insert(uint64_t index, const Secret& secret);
  std::optional<Secret> get(uint64_t index) const;
  // The lowest index inserted so far, if any.
  std::optional<uint64_t> min_index() const;

  util::Bytes encode() const;
  static util::Result<CommitmentSecretStore> decode(util::ByteView encoded);

 private:
  struct Slot {
    uint64_t index = 0;
    Secret secret{};
    bool used = false;
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace hashlock::ln
