#include "chain/transaction.h"

#include "codec/wire.h"

namespace hashlock::chain {

namespace {

enum ConditionTag : uint8_t { kKeyTag = 0, kMultisigTag = 1, kDelayedTag = 2, kHtlcTag = 3 };

template <typename Tag>
void put32(codec::ByteWriter& w, const util::Bytes32<Tag>& value) {
  w.raw(value.view());
}
void put32(codec::ByteWriter& w, const util::Sha256Digest& value) {
  w.raw(ByteView(value.data(), value.size()));
}

template <typename T>
util::Result<T> get32(codec::ByteReader& r, std::string_view what) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.raw(32, what));
  return T::from_bytes(raw);
}
util::Result<util::Sha256Digest> get_digest(codec::ByteReader& r, std::string_view what) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.raw(32, what));
  util::Sha256Digest out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

void encode_condition(codec::ByteWriter& w, const SpendCondition& condition) {
  std::visit(
      [&w](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, KeyCondition>) {
          w.u8(kKeyTag);
          put32(w, c.key);
        } else if constexpr (std::is_same_v<T, MultisigCondition>) {
          w.u8(kMultisigTag);
          put32(w, c.first);
          put32(w, c.second);
        } else if constexpr (std::is_same_v<T, DelayedCondition>) {
          w.u8(kDelayedTag);
          put32(w, c.delayed_key);
          w.u32(c.delay_blocks);
          put32(w, c.revocation_key);
          put32(w, c.revocation_hash);
        } else {
          static_assert(std::is_same_v<T, HtlcCondition>);
          w.u8(kHtlcTag);
          put32(w, c.payment_hash);
          w.u32(c.expiry);
          put32(w, c.claim_key);
          put32(w, c.timeout_key);
          put32(w, c.revocation_key);
          put32(w, c.revocation_hash);
        }
      },
      condition);
}

util::Result<SpendCondition> decode_condition(codec::ByteReader& r) {
  HASHLOCK_ASSIGN_OR_RETURN(uint8_t tag, r.u8("output condition tag"));
  switch (tag) {
    case kKeyTag: {
      KeyCondition c;
      HASHLOCK_ASSIGN_OR_RETURN(c.key, get32<PublicKey>(r, "key condition key"));
      return SpendCondition(c);
    }
    case kMultisigTag: {
      MultisigCondition c;
      HASHLOCK_ASSIGN_OR_RETURN(c.first, get32<PublicKey>(r, "multisig first key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.second, get32<PublicKey>(r, "multisig second key"));
      return SpendCondition(c);
    }
    case kDelayedTag: {
      DelayedCondition c;
      HASHLOCK_ASSIGN_OR_RETURN(c.delayed_key, get32<PublicKey>(r, "delayed key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.delay_blocks, r.u32("delay blocks"));
      HASHLOCK_ASSIGN_OR_RETURN(c.revocation_key, get32<PublicKey>(r, "revocation key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.revocation_hash, get_digest(r, "revocation hash"));
      return SpendCondition(c);
    }
    case kHtlcTag: {
      HtlcCondition c;
      HASHLOCK_ASSIGN_OR_RETURN(c.payment_hash, get32<PaymentHash>(r, "htlc payment hash"));
      HASHLOCK_ASSIGN_OR_RETURN(c.expiry, r.u32("htlc expiry"));
      HASHLOCK_ASSIGN_OR_RETURN(c.claim_key, get32<PublicKey>(r, "htlc claim key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.timeout_key, get32<PublicKey>(r, "htlc timeout key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.revocation_key, get32<PublicKey>(r, "htlc revocation key"));
      HASHLOCK_ASSIGN_OR_RETURN(c.revocation_hash, get_digest(r, "htlc revocation hash"));
      return SpendCondition(c);
    }
    default:
      return util::unsupported("transaction output condition tag " + std::to_string(tag) +
                               " is unknown");
  }
}

void encode_base(codec::ByteWriter& w, const Transaction& tx) {
  w.u32(tx.version);
  w.bigsize(tx.inputs.size());
  for (const TxIn& in : tx.inputs) {
    put32(w, in.prevout.txid);
    w.u32(in.prevout.index);
    w.u32(in.sequence);
  }
  w.bigsize(tx.outputs.size());
  for (const TxOut& out : tx.outputs) {
    w.u64(out.value.value());
    encode_condition(w, out.condition);
  }
  w.u32(tx.lock_time);
}

void encode_witness(codec::ByteWriter& w, const Witness& witness) {
  w.u8(static_cast<uint8_t>(witness.path));
  w.bigsize(witness.signers.size());
  for (const PublicKey& key : witness.signers) put32(w, key);
  w.u8(witness.preimage ? 1 : 0);
  if (witness.preimage) put32(w, *witness.preimage);
  w.u8(witness.revocation_secret ? 1 : 0);
  if (witness.revocation_secret) put32(w, *witness.revocation_secret);
}

util::Result<bool> decode_flag(codec::ByteReader& r, std::string_view what) {
  HASHLOCK_ASSIGN_OR_RETURN(uint8_t flag, r.u8(what));
  if (flag > 1) return util::corruption(std::string(what) + " must be 0 or 1");
  return flag == 1;
}

util::Result<Witness> decode_witness(codec::ByteReader& r) {
  Witness witness;
  HASHLOCK_ASSIGN_OR_RETURN(uint8_t path, r.u8("witness path"));
  if (path > static_cast<uint8_t>(SpendPath::kTimeout))
    return util::unsupported("witness spend path " + std::to_string(path) + " is unknown");
  witness.path = static_cast<SpendPath>(path);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t signers, r.bigsize("witness signer count"));
  if (signers > kMaxWitnessSigners)
    return util::corruption("witness has " + std::to_string(signers) + " signers, more than " +
                            std::to_string(kMaxWitnessSigners));
  for (uint64_t i = 0; i < signers; ++i) {
    HASHLOCK_ASSIGN_OR_RETURN(PublicKey key, get32<PublicKey>(r, "witness signer"));
    witness.signers.push_back(key);
  }
  HASHLOCK_ASSIGN_OR_RETURN(bool has_preimage, decode_flag(r, "witness preimage flag"));
  if (has_preimage) {
    HASHLOCK_ASSIGN_OR_RETURN(
        auto preimage, get32<util::Bytes32<util::PaymentPreimageTag>>(r, "witness preimage"));
    witness.preimage = PaymentPreimage(preimage);
  }
  HASHLOCK_ASSIGN_OR_RETURN(bool has_secret, decode_flag(r, "witness secret flag"));
  if (has_secret) {
    HASHLOCK_ASSIGN_OR_RETURN(witness.revocation_secret,
                              get_digest(r, "witness revocation secret"));
  }
  return witness;
}

}  // namespace

std::string OutPoint::to_string() const {
  return txid.to_hex() + ":" + std::to_string(index);
}

std::string spend_path_name(SpendPath path) {
  switch (path) {
    case SpendPath::kKey:
      return "key";
    case SpendPath::kMultisig:
      return "multisig";
    case SpendPath::kDelayed:
      return "delayed";
    case SpendPath::kRevocation:
      return "revocation";
    case SpendPath::kPreimage:
      return "preimage";
    case SpendPath::kTimeout:
      return "timeout";
  }
  return "unknown";
}

Bytes Transaction::encode_without_witnesses() const {
  codec::ByteWriter w;
  encode_base(w, *this);
  return w.take();
}

Bytes Transaction::encode() const {
  codec::ByteWriter w;
  encode_base(w, *this);
  for (const TxIn& in : inputs) encode_witness(w, in.witness);
  return w.take();
}

Txid Transaction::txid() const {
  return Txid(util::sha256(encode_without_witnesses()));
}

util::Result<AmountMsat> Transaction::output_value() const {
  AmountMsat total;
  for (const TxOut& out : outputs) {
    HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(out.value));
  }
  return total;
}

util::Result<Transaction> Transaction::decode(ByteView encoded) {
  codec::ByteReader r(encoded);
  Transaction tx;
  HASHLOCK_ASSIGN_OR_RETURN(tx.version, r.u32("transaction version"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t input_count, r.bigsize("transaction input count"));
  if (input_count > kMaxTxInputs)
    return util::corruption("transaction has " + std::to_string(input_count) + " inputs");
  for (uint64_t i = 0; i < input_count; ++i) {
    TxIn in;
    HASHLOCK_ASSIGN_OR_RETURN(in.prevout.txid, get32<Txid>(r, "input txid"));
    HASHLOCK_ASSIGN_OR_RETURN(in.prevout.index, r.u32("input index"));
    HASHLOCK_ASSIGN_OR_RETURN(in.sequence, r.u32("input sequence"));
    tx.inputs.push_back(std::move(in));
  }
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t output_count, r.bigsize("transaction output count"));
  if (output_count > kMaxTxOutputs)
    return util::corruption("transaction has " + std::to_string(output_count) + " outputs");
  for (uint64_t i = 0; i < output_count; ++i) {
    TxOut out;
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t value, r.u64("output value"));
    out.value = AmountMsat(value);
    HASHLOCK_ASSIGN_OR_RETURN(out.condition, decode_condition(r));
    tx.outputs.push_back(std::move(out));
  }
  HASHLOCK_ASSIGN_OR_RETURN(tx.lock_time, r.u32("transaction lock time"));
  for (TxIn& in : tx.inputs) {
    HASHLOCK_ASSIGN_OR_RETURN(in.witness, decode_witness(r));
  }
  if (!r.at_end())
    return util::corruption("transaction has " + std::to_string(r.remaining()) + " trailing bytes");
  return tx;
}

}  // namespace hashlock::chain
