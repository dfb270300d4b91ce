// MinerConfig: the TOML file `hashlock miner --config FILE` reads.
//
// Purpose: every setting of a miner process in one validated value. Every
// key is known: an unknown key, a value of the wrong type or out of range is
// an InvalidArgument naming the file, the line and the key; nothing falls
// back silently. See examples/miner.toml and docs/swap.md for the keys.
// Thread-safety: value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "swap/fulfiller.h"
#include "swap/miner.h"

namespace hashlock::swap {

inline constexpr uint64_t kDefaultPollIntervalMs = 1'000;
inline constexpr uint64_t kMinPollIntervalMs = 1;
inline constexpr uint64_t kMaxPollIntervalMs = 3'600'000;
inline constexpr uint64_t kMaxMarginBlocks = 10'000;
inline constexpr uint64_t kMaxSimNewSwapsPerBlock = 100;

// The embedded simulated network the demo miner runs against. Real
// deployments plug their own clients in behind interfaces.h.
struct SimulatedNetworkConfig {
  uint64_t seed = 1;
  uint64_t new_swaps_per_block_max = 2;
  double rpc_fault_rate = 0.0;
};

struct MinerConfig {
  std::string miner_id;
  std::string store_url;
  std::string recovery_log_path;
  std::string event_log_path;  // empty: events go to stdout only
  uint64_t margin_blocks = kDefaultMarginBlocks;
  uint64_t discard_margin_blocks = kDefaultDiscardMarginBlocks;
  uint64_t poll_interval_ms = kDefaultPollIntervalMs;
  uint64_t lease_ttl_ms = kDefaultLeaseTtlMs;
  SimulatedNetworkConfig network;

  MinerOptions miner_options() const;
};

// Parses TOML text; `source` names it in errors (usually the file path).
util::Result<MinerConfig> parse_miner_config(std::string_view toml_text, std::string_view source);
util::Result<MinerConfig> load_miner_config(const std::string& path);

}  // namespace hashlock::swap
