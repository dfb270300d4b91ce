// hashlock: settles hash-time-locked payments without losing or
// double-counting money across crashes. See README.md and docs/cli.md.
#include <cstdio>

#include "apps/hashlock/commands.h"
#include "apps/hashlock/version.h"

int main(int argc, char** argv) {
  CLI::App app{"hashlock: crash-safe settlement of hash-time-locked payments", "hashlock"};
  app.set_version_flag("--version", std::string("hashlock ") + hashlock::app::kVersion);
  app.require_subcommand(1);
  app.footer("Run 'hashlock COMMAND --help' for a command's options. Docs: docs/cli.md");
  int exit_code = hashlock::app::kExitOk;
  hashlock::app::add_store_commands(app, exit_code);
  hashlock::app::add_swap_commands(app, exit_code);
  hashlock::app::add_sim_commands(app, exit_code);
  hashlock::app::add_bench_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : hashlock::app::kExitUsage;
  }
  return exit_code;
}
