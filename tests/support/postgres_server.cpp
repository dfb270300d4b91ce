#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace hashlock::testsupport {
namespace {

util::Result<std::string> find_bin_dir() {
  std::vector<std::string> candidates;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) {
      candidates.push_back((entry.path() / "bin").string());
    }
  }
  if (candidates.empty()) {
    return util::not_found(
        "no PostgreSQL server found under /usr/lib/postgresql (install the postgresql package)");
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.back();
}

util::Result<int> free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return util::io_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return util::io_error("cannot find a free port on 127.0.0.1");
  }
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

}  // namespace

util::Status PostgresServer::run(const std::string& command) const {
  const std::string full = run_as_ + command + " > " + data_dir_ + ".log 2>&1";
  if (std::system(full.c_str()) != 0) {
    return util::io_error("command failed: " + command + " (see " + data_dir_ + ".log)");
  }
  return util::Status::ok();
}

util::Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  HASHLOCK_ASSIGN_OR_RETURN(server->bin_dir_, find_bin_dir());
  HASHLOCK_ASSIGN_OR_RETURN(server->port_, free_port());
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/hashlock-pg-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr)
    return util::io_error("cannot create a temporary directory");
  server->data_dir_ = buffer.data();
  if (geteuid() == 0) {
    server->run_as_ = "runuser -u postgres -- ";
    const std::string chown = "chown postgres " + server->data_dir_;
    if (std::system(chown.c_str()) != 0)
      return util::io_error("cannot hand " + server->data_dir_ + " to the postgres user");
  }
  const std::string& dir = server->data_dir_;
  HASHLOCK_RETURN_IF_ERROR(server->run(server->bin_dir_ + "/initdb -D " + dir +
                                       "/data -U hashlock --auth=trust --no-sync -E UTF8"));
  HASHLOCK_RETURN_IF_ERROR(
      server->run(server->bin_dir_ + "/pg_ctl -D " + dir + "/data -w -t 60 -o \"-p " +
                  std::to_string(server->port_) + " -k " + dir +
                  " -c listen_addresses=127.0.0.1 -c max_connections=40\" start"));
  server->running_ = true;
  return server;
}

PostgresServer::~PostgresServer() {
  if (running_) {
    (void)run(bin_dir_ + "/pg_ctl -D " + data_dir_ + "/data -m immediate -w stop");
  }
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
  std::filesystem::remove(data_dir_ + ".log", ignored);
}

util::Result<std::string> PostgresServer::create_database(const std::string& db) {
  HASHLOCK_RETURN_IF_ERROR(
      run(bin_dir_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U hashlock " + db));
  return "postgresql://hashlock@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

}  // namespace hashlock::testsupport
