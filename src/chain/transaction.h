// The transaction model: what HTLC resolution depends on, and nothing more.
//
// A Transaction spends outputs (TxIn: an OutPoint and a Witness) and creates
// outputs (TxOut: a value and a SpendCondition). The conditions are the few
// shapes a Lightning channel puts on chain:
//  * KeyCondition: one key (a to-remote output, a sweep, a wallet deposit);
//  * MultisigCondition: both keys (the funding output);
//  * DelayedCondition: the delayed key after a relative delay, or at once
//    with the revocation secret (a commitment's to-local output);
//  * HtlcCondition: the claim key with the payment preimage, the timeout key
//    after an absolute expiry, or at once with the revocation secret.
// Values are millisatoshis, so channel balances move on chain unrounded.
// Keys are identities, not cryptography: a witness names the keys that sign,
// and the SpendModel (spend.h) decides whether that satisfies the condition.
// Real scripts can replace the model behind that interface later.
//
// The txid is the SHA-256 of the encoding without witnesses, so it is known
// before anyone signs (as with segregated witness). Encodings are
// deterministic; decode() refuses trailing bytes, unknown condition or path
// tags and oversized lists. Thread-safety: value types.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "util/amount.h"
#include "util/bytes.h"
#include "util/hash.h"
#include "util/ids.h"
#include "util/result.h"

namespace hashlock::chain {

using util::AmountMsat;
using util::BlockHeight;
using util::Bytes;
using util::ByteView;
using util::PaymentHash;
using util::PaymentPreimage;

struct TxidTag {
  static constexpr const char* kName = "txid";
};
struct PublicKeyTag {
  static constexpr const char* kName = "public key";
};
struct BlockHashTag {
  static constexpr const char* kName = "block hash";
};
using Txid = util::Bytes32<TxidTag>;
using PublicKey = util::Bytes32<PublicKeyTag>;
using BlockHash = util::Bytes32<BlockHashTag>;
// A per-commitment secret; its SHA-256 is the revocation hash of the outputs
// it revokes.
using RevocationSecret = util::Sha256Digest;

struct OutPoint {
  Txid txid;
  uint32_t index = 0;
  auto operator<=>(const OutPoint&) const = default;
  std::string to_string() const;
};

struct KeyCondition {
  PublicKey key;
  bool operator==(const KeyCondition&) const = default;
};

struct MultisigCondition {
  PublicKey first;
  PublicKey second;
  bool operator==(const MultisigCondition&) const = default;
};

struct DelayedCondition {
  PublicKey delayed_key;
  uint32_t delay_blocks = 0;  // relative to the output's confirmation
  PublicKey revocation_key;
  util::Sha256Digest revocation_hash{};
  bool operator==(const DelayedCondition&) const = default;
};

struct HtlcCondition {
  PaymentHash payment_hash;
  uint32_t expiry = 0;  // absolute block height
  PublicKey claim_key;
  PublicKey timeout_key;
  PublicKey revocation_key;
  util::Sha256Digest revocation_hash{};
  bool operator==(const HtlcCondition&) const = default;
};

using SpendCondition =
    std::variant<KeyCondition, MultisigCondition, DelayedCondition, HtlcCondition>;

struct TxOut {
  AmountMsat value;
  SpendCondition condition;
  bool operator==(const TxOut&) const = default;
};

// Which branch of its output's condition an input takes.
enum class SpendPath : uint8_t {
  kKey = 0,         // KeyCondition
  kMultisig = 1,    // MultisigCondition: both keys sign
  kDelayed = 2,     // DelayedCondition after delay_blocks
  kRevocation = 3,  // DelayedCondition or HtlcCondition with the revocation secret
  kPreimage = 4,    // HtlcCondition with the payment preimage
  kTimeout = 5,     // HtlcCondition once the lock time reaches the expiry
};
std::string spend_path_name(SpendPath path);

struct Witness {
  SpendPath path = SpendPath::kKey;
  std::vector<PublicKey> signers;
  std::optional<PaymentPreimage> preimage;
  std::optional<RevocationSecret> revocation_secret;
  bool operator==(const Witness&) const = default;
};

struct TxIn {
  OutPoint prevout;
  uint32_t sequence = 0;  // relative lock in blocks (DelayedCondition needs >= delay_blocks)
  Witness witness;
  bool operator==(const TxIn&) const = default;
};

inline constexpr size_t kMaxTxInputs = 10'000;
inline constexpr size_t kMaxTxOutputs = 10'000;
inline constexpr size_t kMaxWitnessSigners = 16;

struct Transaction {
  uint32_t version = 2;
  // Empty: new coins from outside the model (a deposit). A deposit is not
  // subject to lock times; its lock_time numbers it so each has its own txid.
  std::vector<TxIn> inputs;
  std::vector<TxOut> outputs;
  uint32_t lock_time = 0;  // final in a block of height > lock_time
  bool operator==(const Transaction&) const = default;

  Txid txid() const;
  // With witnesses: what is relayed and stored.
  Bytes encode() const;
  // Without witnesses: what the txid commits to.
  Bytes encode_without_witnesses() const;
  static util::Result<Transaction> decode(ByteView encoded);
  // Sum of the output values.
  util::Result<AmountMsat> output_value() const;
};

}  // namespace hashlock::chain
