#include "swap/miner_config.h"

#include <gtest/gtest.h>

namespace hashlock::swap {
namespace {

constexpr const char* kMinimal = R"(
miner_id = "miner-1"
store = "sqlite:miner.db"
recovery_log = "recovery.jsonl"
)";

TEST(MinerConfig, MinimalFileGetsTheDocumentedDefaults) {
  auto config = parse_miner_config(kMinimal, "miner.toml");
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->miner_id, "miner-1");
  EXPECT_EQ(config->store_url, "sqlite:miner.db");
  EXPECT_EQ(config->margin_blocks, kDefaultMarginBlocks);
  EXPECT_EQ(config->discard_margin_blocks, kDefaultDiscardMarginBlocks);
  EXPECT_EQ(config->poll_interval_ms, kDefaultPollIntervalMs);
  EXPECT_TRUE(config->event_log_path.empty());
  EXPECT_EQ(config->miner_options().fulfiller.margin_blocks, kDefaultMarginBlocks);
}

TEST(MinerConfig, EveryKeyIsRead) {
  auto config = parse_miner_config(std::string(kMinimal) + R"(
event_log = "miner.log"
margin_blocks = 5
discard_margin_blocks = 40
poll_interval_ms = 250
lease_ttl_ms = 5000
[network]
kind = "simulated"
seed = 9
new_swaps_per_block_max = 3
rpc_fault_rate = 0.25
)",
                                   "miner.toml");
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->margin_blocks, 5u);
  EXPECT_EQ(config->discard_margin_blocks, 40u);
  EXPECT_EQ(config->poll_interval_ms, 250u);
  EXPECT_EQ(config->lease_ttl_ms, 5000u);
  EXPECT_EQ(config->event_log_path, "miner.log");
  EXPECT_EQ(config->network.seed, 9u);
  EXPECT_EQ(config->network.new_swaps_per_block_max, 3u);
  EXPECT_DOUBLE_EQ(config->network.rpc_fault_rate, 0.25);
}

void expect_error(const std::string& text, const std::string& fragment) {
  auto config = parse_miner_config(text, "miner.toml");
  ASSERT_FALSE(config.is_ok()) << "accepted: " << text;
  EXPECT_EQ(config.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(fragment), std::string::npos)
      << config.status().message();
}

TEST(MinerConfig, UnknownKeyIsAnErrorNamingKeyAndLine) {
  expect_error(std::string(kMinimal) + "margin_blocs = 4\n",
               "miner.toml:5: unknown key 'margin_blocs'");
  expect_error(std::string(kMinimal) + "[network]\nsed = 4\n", "unknown key 'network.sed'");
}

TEST(MinerConfig, BadValuesAreClearErrors) {
  expect_error(std::string(kMinimal) + "margin_blocks = -1\n",
               "'margin_blocks' must be an integer");
  expect_error(std::string(kMinimal) + "margin_blocks = \"three\"\n",
               "'margin_blocks' must be an integer");
  expect_error(std::string(kMinimal) + "poll_interval_ms = 0\n",
               "'poll_interval_ms' must be an integer in [1,");
  expect_error(std::string(kMinimal) + "[network]\nrpc_fault_rate = 2.0\n",
               "'rpc_fault_rate' must be a number in [0, 1]");
  expect_error(std::string(kMinimal) + "[network]\nkind = \"ethereum\"\n",
               "network.kind 'ethereum' is not built in");
  expect_error(std::string(kMinimal) + "poll_interval_ms = 1000\nlease_ttl_ms = 1000\n",
               "lease_ttl_ms (1000) must be");
  expect_error("store = \"memory:\"\nrecovery_log = \"r\"\n", "missing required key 'miner_id'");
  expect_error("miner_id = \"\"\nstore = \"memory:\"\nrecovery_log = \"r\"\n",
               "'miner_id' must be a non-empty string");
  expect_error("miner_id = = 3\n", "miner.toml:1:");
}

TEST(MinerConfig, MissingFileIsNotFound) {
  EXPECT_EQ(load_miner_config("/nonexistent/miner.toml").status().code(),
            util::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hashlock::swap
