// PostgresServer: a private PostgreSQL server for tests and benchmarks.
//
// start() runs initdb into a fresh temporary directory and starts the server
// on a free port of 127.0.0.1 (and a socket in that directory), trusting
// local connections. The destructor stops it immediately and removes the
// directory. Run as root, the server runs as the `postgres` user, since
// PostgreSQL refuses to run as root. Thread-safety: none.
#pragma once

#include <memory>
#include <string>

#include "util/result.h"

namespace hashlock::testsupport {

class PostgresServer {
 public:
  static util::Result<std::unique_ptr<PostgresServer>> start();
  ~PostgresServer();

  // A libpq URL for database `db` on this server (created if missing).
  util::Result<std::string> create_database(const std::string& db);
  int port() const { return port_; }

 private:
  PostgresServer() = default;
  util::Status run(const std::string& command) const;

  std::string bin_dir_;
  std::string data_dir_;
  std::string run_as_;  // "runuser -u postgres -- " when root, else empty
  int port_ = 0;
  bool running_ = false;
};

}  // namespace hashlock::testsupport
