// The ln engine on PostgreSQL: each node on its own database of a private
// server; crashes drop the connection and reconnect. Every write the engine
// makes is conditional on the row versions it has read, so this also shows
// the engine never overwrites a row blindly.
#include <gtest/gtest.h>

#include "ln/harness.h"
#include "tests/support/store_backends.h"

namespace hashlock::ln {
namespace {

PaymentPreimage preimage_of(int n) { return PaymentPreimage(util::sha256(util::as_bytes("pg preimage " + std::to_string(n)))); }
PaymentId payment_id_of(int n) { return PaymentId(util::sha256(util::as_bytes("pg payment " + std::to_string(n)))); }

TEST(LnOnPostgres, PaymentsSettleAcrossRestarts) {
  HarnessOptions options;
  options.async_persistence = true;
  options.store_urls = {testsupport::fresh_postgres_database(), testsupport::fresh_postgres_database()};
  LnHarness h(2, options);
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(100'000'000));
  for (int n = 0; n < 20; ++n) {
    h.expect_payment(preimage_of(n), n % 4 != 0);
    ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment(payment_id_of(n), preimage_of(n).payment_hash(), AmountMsat(10'000 + n), channel);
    }).is_ok());
    h.step();
    if (n == 7) h.crash(0);
    if (n == 13) h.crash(1);
  }
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 15u);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 5u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  // Everything the nodes wrote reads back with valid checksums.
  for (size_t i = 0; i < 2; ++i) {
    auto reports = h.kv(i).check();
    ASSERT_TRUE(reports.is_ok()) << reports.status().to_string();
    for (const auto& report : *reports) EXPECT_TRUE(report.corrupt.empty()) << report.ns;
  }
}

}  // namespace
}  // namespace hashlock::ln
