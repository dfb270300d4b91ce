// The subcommands of the `hashlock` executable. Each add_*_commands()
// registers its subcommands on the app; the callbacks set the exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace hashlock::app {

// Exit codes shared by every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the command ran and found a problem (corruption, a violated invariant)
  kExitUsage = 2,        // bad flags or input
  kExitUnavailable = 3,  // a store or service could not be reached
};

void add_store_commands(CLI::App& app, int& exit_code);
void add_swap_commands(CLI::App& app, int& exit_code);
void add_sim_commands(CLI::App& app, int& exit_code);
void add_bench_commands(CLI::App& app, int& exit_code);

}  // namespace hashlock::app
