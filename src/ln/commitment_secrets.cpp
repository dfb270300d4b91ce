#include "ln/commitment_secrets.h"

#include "codec/wire.h"

namespace hashlock::ln {
namespace {

// BOLT 3: for each bit B from `bits`-1 down to 0 set in `index`, flip bit B
// of the value and hash it.
Secret derive_from(const Secret& base, int bits, uint64_t index) {
  Secret value = base;
  for (int bit = bits - 1; bit >= 0; --bit) {
    if ((index >> bit) & 1) {
      value[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1u << (bit % 8));
      value = util::sha256(value);
    }
  }
  return value;
}

int trailing_zeros(uint64_t index) {
  for (int bit = 0; bit < 48; ++bit) {
    if ((index >> bit) & 1) return bit;
  }
  return 48;
}

}  // namespace

uint64_t shachain_index(uint64_t commitment_number) {
  return kMaxShachainIndex - commitment_number;
}

Secret derive_secret(const Secret& seed, uint64_t index) {
  return derive_from(seed, 48, index);
}

util::Sha256Digest commitment_point(const Secret& secret) {
  return util::sha256(secret);
}

util::Status CommitmentSecretStore::insert(uint64_t index, const Secret& secret) {
  if (index > kMaxShachainIndex)
    return util::protocol_error("commitment secret index out of range");
  const int position = trailing_zeros(index);
  for (int i = 0; i < position; ++i) {
    const Slot& slot = slots_[static_cast<size_t>(i)];
    if (!slot.used) continue;
    if (derive_from(secret, position, slot.index) != slot.secret) {
      return util::protocol_error("revealed secret for index " + std::to_string(index) +
                                  " does not derive the earlier secret at index " +
                                  std::to_string(slot.index));
    }
  }
  slots_[static_cast<size_t>(position)] = Slot{index, secret, true};
  return util::Status::ok();
}

std::optional<Secret> CommitmentSecretStore::get(uint64_t index) const {
  for (int i = 0; i < static_cast<int>(kSlots); ++i) {
    const Slot& slot = slots_[static_cast<size_t>(i)];
    if (!slot.used) continue;
    const uint64_t mask = ~((1ULL << i) - 1);
    if ((index & mask) == slot.index) return derive_from(slot.secret, i, index);
  }
  return std::nullopt;
}

std::optional<uint64_t> CommitmentSecretStore::min_index() const {
  std::optional<uint64_t> lowest;
  for (const Slot& slot : slots_) {
    if (slot.used && (!lowest || slot.index < *lowest)) lowest = slot.index;
  }
  return lowest;
}

util::Bytes CommitmentSecretStore::encode() const {
  codec::ByteWriter out;
  for (size_t i = 0; i < kSlots; ++i) {
    if (!slots_[i].used) continue;
    out.u8(static_cast<uint8_t>(i));
    out.u64(slots_[i].index);
    out.raw(slots_[i].secret);
  }
  return out.take();
}

util::Result<CommitmentSecretStore> CommitmentSecretStore::decode(util::ByteView encoded) {
  CommitmentSecretStore store;
  codec::ByteReader in(encoded);
  while (!in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint8_t position, in.u8("secret slot"));
    if (position >= kSlots)
      return util::corruption("secret slot " + std::to_string(position) + " out of range");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t index, in.u64("secret index"));
    HASHLOCK_ASSIGN_OR_RETURN(util::ByteView raw, in.raw(32, "secret"));
    Slot& slot = store.slots_[position];
    slot.used = true;
    slot.index = index;
    std::copy(raw.begin(), raw.end(), slot.secret.begin());
  }
  return store;
}

}  // namespace hashlock::ln
