// `hashlock store check --store URL`: verifies every record and prints counts
// per namespace.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/hashlock/commands.h"
#include "store/open_store.h"

namespace hashlock::app {
namespace {

struct CheckOptions {
  std::string url;
  bool json = false;
};

int run_check(const CheckOptions& options) {
  auto store = store::open_store(options.url);
  if (!store.is_ok()) {
    std::fprintf(stderr, "hashlock store check: %s\n", store.status().to_string().c_str());
    return store.status().code() == util::StatusCode::kInvalidArgument ? kExitUsage
                                                                       : kExitUnavailable;
  }
  auto reports = (*store)->check();
  if (!reports.is_ok()) {
    std::fprintf(stderr, "hashlock store check: %s\n", reports.status().to_string().c_str());
    return kExitUnavailable;
  }
  uint64_t records = 0;
  uint64_t corrupt = 0;
  nlohmann::json namespaces = nlohmann::json::array();
  if (!options.json)
    std::printf("%-24s %10s %12s %8s\n", "namespace", "records", "bytes", "corrupt");
  for (const auto& report : *reports) {
    records += report.records;
    corrupt += report.corrupt.size();
    if (options.json) {
      namespaces.push_back({{"namespace", report.ns},
                            {"records", report.records},
                            {"bytes", report.bytes},
                            {"corrupt", report.corrupt}});
      continue;
    }
    std::printf("%-24s %10llu %12llu %8zu\n", report.ns.c_str(),
                static_cast<unsigned long long>(report.records),
                static_cast<unsigned long long>(report.bytes), report.corrupt.size());
    for (const auto& problem : report.corrupt)
      std::printf("  corrupt %s/%s\n", report.ns.c_str(), problem.c_str());
  }
  if (options.json) {
    nlohmann::json out = {{"store", (*store)->url()},
                          {"records", records},
                          {"corrupt", corrupt},
                          {"namespaces", namespaces}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s: %llu records in %zu namespaces, %llu corrupt\n", (*store)->url().c_str(),
                static_cast<unsigned long long>(records), reports->size(),
                static_cast<unsigned long long>(corrupt));
  }
  return corrupt == 0 ? kExitOk : kExitFailed;
}

}  // namespace

void add_store_commands(CLI::App& app, int& exit_code) {
  CLI::App* store = app.add_subcommand("store", "Inspect a hashlock store");
  store->require_subcommand(1);
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = store->add_subcommand(
      "check",
      "Verify every record's checksum and print counts per namespace (exit 1 if any is corrupt)");
  check->add_option("--store", options->url, "Store URL: sqlite:PATH, postgres://..., memory:")
      ->required();
  check->add_flag("--json", options->json, "Print one JSON object instead of a table");
  check->callback([options, &exit_code] { exit_code = run_check(*options); });
}

}  // namespace hashlock::app
