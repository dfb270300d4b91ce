#include "ln/router.h"

#include <gtest/gtest.h>

namespace hashlock::ln {
namespace {

ChannelId channel(const std::string& name) {
  return ChannelId(util::sha256(util::as_bytes(name)));
}

FeePolicy policy(uint64_t base, uint32_t ppm, uint32_t delta) {
  FeePolicy p;
  p.base_fee = AmountMsat(base);
  p.proportional_millionths = ppm;
  p.cltv_expiry_delta = delta;
  return p;
}

void both_ways(NetworkGraph& g, const std::string& name, uint64_t a, uint64_t b, uint64_t capacity,
               FeePolicy p) {
  g.add_edge(GraphEdge{channel(name), NodeId(a), NodeId(b), AmountMsat(capacity), p});
  g.add_edge(GraphEdge{channel(name), NodeId(b), NodeId(a), AmountMsat(capacity), p});
}

// 1 - 2 - 4 is cheap but slow; 1 - 3 - 4 is dear but fast; 1 - 5 - 4 is too small.
NetworkGraph diamond() {
  NetworkGraph g;
  both_ways(g, "12", 1, 2, 10'000'000, policy(0, 0, 10));
  both_ways(g, "24", 2, 4, 10'000'000, policy(100, 10, 200));
  both_ways(g, "13", 1, 3, 10'000'000, policy(0, 0, 10));
  both_ways(g, "34", 3, 4, 10'000'000, policy(5000, 100, 20));
  both_ways(g, "15", 1, 5, 10'000'000, policy(0, 0, 10));
  both_ways(g, "54", 5, 4, 1'000, policy(0, 0, 10));
  return g;
}

TEST(Router, FindsTheCheapestRouteThatCanCarryTheAmount) {
  auto route = find_route(diamond(), NodeId(1), NodeId(4), AmountMsat(1'000'000), 40, 1'000);
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  ASSERT_EQ(route->hops.size(), 2u);
  EXPECT_EQ(route->hops[0].channel_id, channel("12"));
  EXPECT_EQ(route->hops[1].channel_id, channel("24"));
  // Node 2 charges 100 + 10 ppm of 1,000,000 = 110 msat.
  EXPECT_EQ(route->fees, AmountMsat(110));
  EXPECT_EQ(route->total_cltv, 40u + 200u);
  auto built = build_route(route->hops, AmountMsat(1'000'000), 40);
  ASSERT_TRUE(built.is_ok());
  EXPECT_EQ(built->fees, route->fees);
}

TEST(Router, AdvertisedFeesChangeForOneEndOrBothAndKeepTheExpiryDelta) {
  NetworkGraph g = diamond();
  EXPECT_EQ(g.set_fees(channel("24"), NodeId(2), AmountMsat(0), 0), 1u);
  EXPECT_EQ(g.set_fees(channel("34"), std::nullopt, AmountMsat(7), 3), 2u);
  EXPECT_EQ(g.set_fees(channel("none"), std::nullopt, AmountMsat(7), 3), 0u);
  for (const GraphEdge& e : g.edges()) {
    if (e.channel_id == channel("24")) {
      EXPECT_EQ(e.policy.base_fee, AmountMsat(e.from == NodeId(2) ? 0 : 100));
      EXPECT_EQ(e.policy.cltv_expiry_delta, 200u);
    }
    if (e.channel_id == channel("34")) {
      EXPECT_EQ(e.policy.base_fee, AmountMsat(7));
      EXPECT_EQ(e.policy.proportional_millionths, 3u);
      EXPECT_EQ(e.policy.cltv_expiry_delta, 20u);
    }
  }
}

TEST(Router, RespectsTheExpiryLimit) {
  auto route = find_route(diamond(), NodeId(1), NodeId(4), AmountMsat(1'000'000), 40, 100);
  ASSERT_TRUE(route.is_ok());
  EXPECT_EQ(route->hops[1].channel_id, channel("34"));
  EXPECT_EQ(route->fees, AmountMsat(5100));
}

TEST(Router, SaysWhyThereIsNoRoute) {
  auto route = find_route(diamond(), NodeId(1), NodeId(4), AmountMsat(50'000'000), 40, 1'000);
  ASSERT_FALSE(route.is_ok());
  EXPECT_EQ(route.status().code(), util::StatusCode::kNotFound);
  EXPECT_NE(route.status().message().find("no route from node1 to node4"), std::string::npos);
  EXPECT_FALSE(find_route(diamond(), NodeId(1), NodeId(1), AmountMsat(1), 40, 1'000).is_ok());
}

TEST(Router, DirectChannelNeedsNoFee) {
  auto route = find_route(diamond(), NodeId(1), NodeId(2), AmountMsat(5'000), 40, 1'000);
  ASSERT_TRUE(route.is_ok());
  ASSERT_EQ(route->hops.size(), 1u);
  EXPECT_EQ(route->fees, AmountMsat(0));
}

}  // namespace
}  // namespace hashlock::ln
