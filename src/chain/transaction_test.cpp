#include "chain/transaction.h"

#include <gtest/gtest.h>

namespace hashlock::chain {
namespace {

PublicKey key(uint8_t n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = n;
  return PublicKey(bytes);
}

Transaction sample() {
  Transaction tx;
  tx.inputs.push_back(TxIn{OutPoint{Txid(util::sha256(util::as_bytes("parent"))), 3}, 144,
                           Witness{SpendPath::kPreimage,
                                   {key(1)},
                                   PaymentPreimage(util::sha256(util::as_bytes("x"))),
                                   std::nullopt}});
  tx.inputs.push_back(TxIn{
      OutPoint{Txid(util::sha256(util::as_bytes("other"))), 0}, 0,
      Witness{
          SpendPath::kRevocation, {key(2)}, std::nullopt, util::sha256(util::as_bytes("secret"))}});
  tx.outputs.push_back(TxOut{AmountMsat(1000), KeyCondition{key(3)}});
  tx.outputs.push_back(TxOut{AmountMsat(2000), MultisigCondition{key(4), key(5)}});
  tx.outputs.push_back(TxOut{AmountMsat(3000), DelayedCondition{key(6), 144, key(7), {9}}});
  tx.outputs.push_back(TxOut{
      AmountMsat(4000),
      HtlcCondition{
          PaymentHash(util::sha256(util::as_bytes("h"))), 500, key(8), key(9), key(10), {7}}});
  tx.lock_time = 499;
  return tx;
}

TEST(Transaction, EncodingRoundTripsEveryConditionAndWitness) {
  const Transaction tx = sample();
  auto decoded = Transaction::decode(tx.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), tx);
  EXPECT_EQ(decoded->txid(), tx.txid());
}

TEST(Transaction, TxidCommitsToEverythingButWitnesses) {
  const Transaction tx = sample();
  Transaction resigned = tx;
  resigned.inputs[0].witness.signers.push_back(key(42));
  resigned.inputs[1].witness.revocation_secret.reset();
  EXPECT_EQ(resigned.txid(), tx.txid());
  EXPECT_NE(resigned.encode(), tx.encode());

  Transaction more = tx;
  more.outputs[0].value = AmountMsat(1001);
  EXPECT_NE(more.txid(), tx.txid());
  Transaction later = tx;
  later.lock_time = 500;
  EXPECT_NE(later.txid(), tx.txid());
  Transaction delayed = tx;
  std::get<DelayedCondition>(delayed.outputs[2].condition).delay_blocks = 145;
  EXPECT_NE(delayed.txid(), tx.txid());
  EXPECT_EQ(tx.txid().view().size(), 32u);
}

TEST(Transaction, DecodeRefusesTrailingBytes) {
  Bytes encoded = sample().encode();
  encoded.push_back(0);
  auto decoded = Transaction::decode(encoded);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("trailing"), std::string::npos);
}

TEST(Transaction, DecodeRefusesEveryTruncation) {
  const Bytes encoded = sample().encode();
  for (size_t length = 0; length < encoded.size(); ++length) {
    auto decoded = Transaction::decode(ByteView(encoded.data(), length));
    EXPECT_FALSE(decoded.is_ok()) << "prefix of " << length << " bytes decoded";
  }
}

TEST(Transaction, DecodeRefusesUnknownConditionTag) {
  Transaction tx;
  tx.outputs.push_back(TxOut{AmountMsat(5), KeyCondition{key(1)}});
  Bytes encoded = tx.encode();
  // version(4) | input count(1) | output count(1) | value(8) | tag
  ASSERT_EQ(encoded[14], 0);
  encoded[14] = 9;
  auto decoded = Transaction::decode(encoded);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kUnsupported);
  EXPECT_NE(decoded.status().message().find("condition tag 9"), std::string::npos);
}

TEST(Transaction, DecodeRefusesUnknownSpendPath) {
  Transaction tx = sample();
  tx.inputs.resize(1);
  tx.inputs[0].witness = Witness{SpendPath::kKey, {}, std::nullopt, std::nullopt};
  Bytes encoded = tx.encode();
  // The witness is last: path | signer count | preimage flag | secret flag.
  encoded[encoded.size() - 4] = 6;
  auto decoded = Transaction::decode(encoded);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kUnsupported);
}

TEST(Transaction, OutputValueIsCheckedSum) {
  Transaction tx;
  tx.outputs.push_back(TxOut{AmountMsat(UINT64_MAX), KeyCondition{key(1)}});
  EXPECT_EQ(tx.output_value().value(), AmountMsat(UINT64_MAX));
  tx.outputs.push_back(TxOut{AmountMsat(1), KeyCondition{key(1)}});
  EXPECT_EQ(tx.output_value().status().code(), util::StatusCode::kOverflow);
}

}  // namespace
}  // namespace hashlock::chain
