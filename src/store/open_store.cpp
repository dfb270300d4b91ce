#include "store/open_store.h"

#include <charconv>
#include <map>

#include "store/memory_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace hashlock::store {
namespace {

constexpr const char* kAccepted = "use sqlite:PATH, postgres://USER@HOST:PORT/DB or memory:";

struct SplitUrl {
  std::string_view base;
  std::map<std::string, std::string, std::less<>> options;
};

util::Result<SplitUrl> split_options(std::string_view url) {
  SplitUrl out;
  const size_t question = url.find('?');
  out.base = url.substr(0, question);
  if (question == std::string_view::npos) return out;
  std::string_view rest = url.substr(question + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return util::invalid_argument("store URL option '" + std::string(pair) +
                                    "' is not NAME=VALUE");
    }
    out.options[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return out;
}

util::Result<uint64_t> parse_number(const std::string& name, const std::string& text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return util::invalid_argument("store URL option " + name + "='" + text + "' is not a number");
  }
  return value;
}

util::Status reject_unknown(const SplitUrl& url, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : url.options) {
    bool found = false;
    for (std::string_view k : known) found |= (k == name);
    if (!found) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return util::invalid_argument("unknown store URL option '" + name +
                                    "' (accepted: " + (list.empty() ? "none" : list) + ")");
    }
  }
  return util::Status::ok();
}

util::Result<std::unique_ptr<KVStore>> open_sqlite(const SplitUrl& url) {
  HASHLOCK_RETURN_IF_ERROR(reject_unknown(url, {"synchronous", "busy_timeout_ms", "cache_kib"}));
  SqliteOptions options;
  options.path = std::string(url.base.substr(std::string_view("sqlite:").size()));
  if (auto it = url.options.find("synchronous"); it != url.options.end()) {
    if (it->second != "full" && it->second != "normal") {
      return util::invalid_argument("store URL option synchronous must be full or normal, got '" +
                                    it->second + "'");
    }
    options.synchronous_full = it->second == "full";
  }
  if (auto it = url.options.find("busy_timeout_ms"); it != url.options.end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t ms, parse_number(it->first, it->second));
    options.busy_timeout_ms = static_cast<int>(std::min<uint64_t>(ms, 3'600'000));
  }
  if (auto it = url.options.find("cache_kib"); it != url.options.end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t kib, parse_number(it->first, it->second));
    if (kib < 16 || kib > 16 * 1024 * 1024) {
      return util::invalid_argument("store URL option cache_kib must be 16..16777216, got " +
                                    it->second);
    }
    options.cache_kib = static_cast<int>(kib);
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::open(options));
  return std::unique_ptr<KVStore>(std::move(store));
}

util::Result<std::unique_ptr<KVStore>> open_memory(const SplitUrl& url) {
  HASHLOCK_RETURN_IF_ERROR(reject_unknown(url, {"seed", "torn"}));
  if (url.base != "memory:") {
    return util::invalid_argument("memory store URL takes no path: use memory: or memory:?seed=N");
  }
  MemoryStoreOptions options;
  if (auto it = url.options.find("seed"); it != url.options.end()) {
    HASHLOCK_ASSIGN_OR_RETURN(options.seed, parse_number(it->first, it->second));
  }
  if (auto it = url.options.find("torn"); it != url.options.end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t torn, parse_number(it->first, it->second));
    options.torn_crash = torn != 0;
  }
  return std::unique_ptr<KVStore>(std::make_unique<MemoryStore>(options));
}

}  // namespace

util::Result<std::unique_ptr<KVStore>> open_store(std::string_view url) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store,
                              PostgresStore::open(std::string(url)));
    return std::unique_ptr<KVStore>(std::move(store));
  }
  HASHLOCK_ASSIGN_OR_RETURN(SplitUrl split, split_options(url));
  if (split.base.starts_with("sqlite:")) return open_sqlite(split);
  if (split.base.starts_with("memory:")) return open_memory(split);
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos) {
    return util::invalid_argument("store URL '" + std::string(url) + "' has no scheme; " +
                                  kAccepted);
  }
  return util::invalid_argument("unknown store URL scheme '" + std::string(url.substr(0, colon)) +
                                "'; " + kAccepted);
}

}  // namespace hashlock::store
