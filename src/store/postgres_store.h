// PostgresStore: a KVStore on a PostgreSQL server, for deployments that
// outgrow one machine.
//
// Every row carries a version. This store remembers the version of each key
// it has read or written; a write succeeds only if the row still has that
// version (or, for a key it has never seen, if the row does not exist).
// Otherwise the whole batch is rolled back and the writer gets Conflict: two
// processes writing the same keys can never silently overwrite each other.
// Read a key (get or list) before overwriting a row another process created.
//
// Durability: kSynced commits with synchronous_commit=on (the commit record
// is flushed before COMMIT returns); kBuffered commits with
// synchronous_commit=off; sync() commits a transaction with an id
// synchronously, which flushes the WAL past every earlier commit.
//
// URL: postgres://USER@HOST:PORT/DB (any libpq connection URI).
// Thread-safety: none; one connection, used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "store/kv_store.h"

namespace hashlock::store {

class PostgresStore final : public KVStore {
 public:
  static util::Result<std::unique_ptr<PostgresStore>> open(const std::string& url);
  ~PostgresStore() override;

 protected:
  util::Result<std::optional<Bytes>> do_get(const std::string& ns, const std::string& key) override;
  util::Result<std::vector<Entry>> do_list(const std::string& ns,
                                           const std::string& prefix) override;
  util::Result<std::vector<std::string>> do_list_namespaces() override;
  util::Status do_write(const WriteBatch& framed, Durability durability) override;
  util::Status do_sync() override;

 private:
  struct Connection;  // wraps the libpqxx connection
  PostgresStore(const std::string& url, std::unique_ptr<Connection> connection);
  static std::string version_key(const std::string& ns, const std::string& key);

  std::unique_ptr<Connection> connection_;
  // Last version seen per key; 0 means "seen absent".
  std::unordered_map<std::string, int64_t> versions_;
};

}  // namespace hashlock::store
