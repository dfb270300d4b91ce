#include "swap/miner_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace hashlock::swap {
namespace {

std::string where(std::string_view source, const toml::node& node) {
  return std::string(source) + ":" + std::to_string(node.source().begin.line);
}

util::Status reject_unknown_keys(const toml::table& table, const std::set<std::string>& known,
                                 std::string_view source, std::string_view section) {
  for (const auto& [key, node] : table) {
    if (!known.contains(std::string(key.str()))) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return util::invalid_argument(where(source, node) + ": unknown key '" + std::string(section) +
                                    std::string(key.str()) + "' (known: " + list + ")");
    }
  }
  return util::Status::ok();
}

util::Status read_string(const toml::table& table, const char* key, std::string& out,
                         std::string_view source, bool required) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return required ? util::invalid_argument(std::string(source) + ": missing required key '" +
                                             key + "'")
                    : util::Status::ok();
  }
  const auto* value = node->as_string();
  if (value == nullptr || value->get().empty()) {
    return util::invalid_argument(where(source, *node) + ": '" + key +
                                  "' must be a non-empty string");
  }
  out = value->get();
  return util::Status::ok();
}

util::Status read_uint(const toml::table& table, const char* key, uint64_t& out, uint64_t min,
                       uint64_t max, std::string_view source) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return util::Status::ok();
  const auto* value = node->as_integer();
  if (value == nullptr || value->get() < 0 || static_cast<uint64_t>(value->get()) < min ||
      static_cast<uint64_t>(value->get()) > max) {
    return util::invalid_argument(where(source, *node) + ": '" + key + "' must be an integer in [" +
                                  std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  out = static_cast<uint64_t>(value->get());
  return util::Status::ok();
}

util::Status read_rate(const toml::table& table, const char* key, double& out,
                       std::string_view source) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return util::Status::ok();
  std::optional<double> value = node->value<double>();
  if (!value || *value < 0.0 || *value > 1.0) {
    return util::invalid_argument(where(source, *node) + ": '" + key +
                                  "' must be a number in [0, 1]");
  }
  out = *value;
  return util::Status::ok();
}

util::Status read_network(const toml::table& root, MinerConfig& config, std::string_view source) {
  const toml::node* node = root.get("network");
  if (node == nullptr) return util::Status::ok();
  const toml::table* network = node->as_table();
  if (network == nullptr)
    return util::invalid_argument(where(source, *node) + ": 'network' must be a table");
  HASHLOCK_RETURN_IF_ERROR(reject_unknown_keys(
      *network, {"kind", "seed", "new_swaps_per_block_max", "rpc_fault_rate"}, source, "network."));
  std::string kind = "simulated";
  HASHLOCK_RETURN_IF_ERROR(read_string(*network, "kind", kind, source, false));
  if (kind != "simulated") {
    return util::invalid_argument(
        std::string(source) + ": network.kind '" + kind +
        "' is not built in (this build embeds only 'simulated'; real chains plug in "
        "behind swap/interfaces.h)");
  }
  HASHLOCK_RETURN_IF_ERROR(
      read_uint(*network, "seed", config.network.seed, 0, UINT64_MAX >> 1, source));
  HASHLOCK_RETURN_IF_ERROR(read_uint(*network, "new_swaps_per_block_max",
                                     config.network.new_swaps_per_block_max, 0,
                                     kMaxSimNewSwapsPerBlock, source));
  return read_rate(*network, "rpc_fault_rate", config.network.rpc_fault_rate, source);
}

util::Result<MinerConfig> from_table(const toml::table& root, std::string_view source) {
  HASHLOCK_RETURN_IF_ERROR(
      reject_unknown_keys(root,
                          {"miner_id", "store", "recovery_log", "event_log", "margin_blocks",
                           "discard_margin_blocks", "poll_interval_ms", "lease_ttl_ms", "network"},
                          source, ""));
  MinerConfig config;
  HASHLOCK_RETURN_IF_ERROR(read_string(root, "miner_id", config.miner_id, source, true));
  HASHLOCK_RETURN_IF_ERROR(read_string(root, "store", config.store_url, source, true));
  HASHLOCK_RETURN_IF_ERROR(
      read_string(root, "recovery_log", config.recovery_log_path, source, true));
  HASHLOCK_RETURN_IF_ERROR(read_string(root, "event_log", config.event_log_path, source, false));
  HASHLOCK_RETURN_IF_ERROR(
      read_uint(root, "margin_blocks", config.margin_blocks, 0, kMaxMarginBlocks, source));
  HASHLOCK_RETURN_IF_ERROR(read_uint(root, "discard_margin_blocks", config.discard_margin_blocks, 0,
                                     kMaxMarginBlocks, source));
  HASHLOCK_RETURN_IF_ERROR(read_uint(root, "poll_interval_ms", config.poll_interval_ms,
                                     kMinPollIntervalMs, kMaxPollIntervalMs, source));
  HASHLOCK_RETURN_IF_ERROR(
      read_uint(root, "lease_ttl_ms", config.lease_ttl_ms, 1, kMaxPollIntervalMs * 10, source));
  if (config.lease_ttl_ms < 3 * config.poll_interval_ms) {
    return util::invalid_argument(std::string(source) + ": lease_ttl_ms (" +
                                  std::to_string(config.lease_ttl_ms) +
                                  ") must be at least 3 x poll_interval_ms (" +
                                  std::to_string(config.poll_interval_ms) + ")");
  }
  HASHLOCK_RETURN_IF_ERROR(read_network(root, config, source));
  return config;
}

}  // namespace

MinerOptions MinerConfig::miner_options() const {
  MinerOptions options;
  options.fulfiller = FulfillerConfig{miner_id, margin_blocks, discard_margin_blocks};
  options.lease_ttl_ms = lease_ttl_ms;
  return options;
}

util::Result<MinerConfig> parse_miner_config(std::string_view toml_text, std::string_view source) {
  try {
    toml::table root = toml::parse(toml_text, source);
    return from_table(root, source);
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << source << ":" << error.source().begin.line << ": " << error.description();
    return util::invalid_argument(message.str());
  }
}

util::Result<MinerConfig> load_miner_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::not_found("miner config " + path + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_miner_config(text, path);
}

}  // namespace hashlock::swap
