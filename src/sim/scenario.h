// Scripted scenarios: a small text format (docs/scenarios.md) that drives the
// real engine through LnHarness step by step — nodes and channels, payments,
// message delivery and drops, disconnects, crashes and stale snapshots,
// asynchronous persistence completed in a given order — and checks
// `expect` lines against what the nodes did.
//
// parse_scenario() checks the whole file first and reports the first bad
// line as "FILE:LINE: problem". run_scenario() executes it and reports the
// first failed expectation the same way.
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace hashlock::sim {

struct ScenarioCommand {
  int line = 0;
  std::vector<std::string> words;
};

struct Scenario {
  std::string file;
  std::string name;
  std::vector<ScenarioCommand> commands;
};

struct ScenarioResult {
  bool passed = false;
  std::string failure;  // "FILE:LINE: what did not hold"
  size_t expectations_checked = 0;
};

util::Result<Scenario> parse_scenario(const std::string& file, const std::string& text);
util::Result<Scenario> load_scenario(const std::string& path);
ScenarioResult run_scenario(const Scenario& scenario);

}  // namespace hashlock::sim
