#include "tests/support/store_backends.h"

#include <sqlite3.h>

#include <atomic>
#include <pqxx/pqxx>
#include <stdexcept>

#include "store/memory_store.h"
#include "store/open_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace hashlock::testsupport {
namespace {

template <typename T>
T must(util::Result<T> result, const char* what) {
  if (!result.is_ok())
    throw std::runtime_error(std::string(what) + ": " + result.status().to_string());
  return std::move(result).value();
}

class MemoryBackend final : public StoreBackend {
 public:
  std::string name() const override { return "memory"; }
  store::KVStore& store() override { return store_; }
  void reopen() override { store_.crash(); }
  std::unique_ptr<store::KVStore> open_another() override { return nullptr; }
  void corrupt(const std::string& ns, const std::string& key) override {
    if (!store_.corrupt_bit(ns, key, 37).is_ok()) throw std::runtime_error("nothing to corrupt");
  }

 private:
  store::MemoryStore store_;
};

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() : dir_("hashlock-sqlite") { reopen(); }
  std::string name() const override { return "sqlite"; }
  store::KVStore& store() override { return *store_; }
  void reopen() override {
    store_.reset();
    store_ = must(store::open_store(url()), "open sqlite");
  }
  std::unique_ptr<store::KVStore> open_another() override {
    return must(store::open_store(url()), "open sqlite");
  }
  void corrupt(const std::string& ns, const std::string& key) override {
    sqlite3* db = nullptr;
    sqlite3_open(dir_.file("store.db").c_str(), &db);
    sqlite3_stmt* read = nullptr;
    sqlite3_prepare_v2(db, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2", -1, &read, nullptr);
    sqlite3_bind_text(read, 1, ns.data(), static_cast<int>(ns.size()), SQLITE_STATIC);
    sqlite3_bind_blob(read, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    std::string value;
    if (sqlite3_step(read) == SQLITE_ROW) {
      value.assign(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(read, 0)));
    }
    sqlite3_finalize(read);
    if (value.size() < 6) throw std::runtime_error("sqlite: nothing to corrupt");
    value[5] = static_cast<char>(value[5] ^ 1);
    sqlite3_stmt* write = nullptr;
    sqlite3_prepare_v2(db, "UPDATE kv SET value = ?3 WHERE ns = ?1 AND key = ?2", -1, &write,
                       nullptr);
    sqlite3_bind_text(write, 1, ns.data(), static_cast<int>(ns.size()), SQLITE_STATIC);
    sqlite3_bind_blob(write, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(write, 3, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(write);
    sqlite3_finalize(write);
    sqlite3_close(db);
    if (rc != SQLITE_DONE) throw std::runtime_error("sqlite: corrupt failed");
  }

 private:
  std::string url() const { return "sqlite:" + dir_.file("store.db"); }
  TempDir dir_;
  std::unique_ptr<store::KVStore> store_;
};

class PostgresBackend final : public StoreBackend {
 public:
  PostgresBackend() : url_(fresh_postgres_database()) { reopen(); }
  std::string name() const override { return "postgres"; }
  store::KVStore& store() override { return *store_; }
  void reopen() override {
    store_.reset();
    store_ = must(store::open_store(url_), "open postgres");
  }
  std::unique_ptr<store::KVStore> open_another() override {
    return must(store::open_store(url_), "open postgres");
  }
  void corrupt(const std::string& ns, const std::string& key) override {
    pqxx::connection connection(url_);
    pqxx::work txn(connection);
    pqxx::result changed = txn.exec_params(
        "UPDATE hashlock_kv SET value = set_byte(value, 5, get_byte(value, 5) # 1) "
        "WHERE ns = $1 AND key = $2",
        ns, pqxx::binarystring(key));
    txn.commit();
    if (changed.affected_rows() != 1) throw std::runtime_error("postgres corrupt failed");
  }

 private:
  std::string url_;
  std::unique_ptr<store::KVStore> store_;
};

PostgresServer& shared_server() {
  static std::unique_ptr<PostgresServer> server = [] {
    auto started = PostgresServer::start();
    if (!started.is_ok())
      throw std::runtime_error("cannot start PostgreSQL: " + started.status().to_string());
    return std::move(started).value();
  }();
  return *server;
}

}  // namespace

std::string fresh_postgres_database() {
  static std::atomic<int> counter{0};
  return must(shared_server().create_database("test" + std::to_string(++counter)), "createdb");
}

std::unique_ptr<StoreBackend> make_memory_backend() {
  return std::make_unique<MemoryBackend>();
}
std::unique_ptr<StoreBackend> make_sqlite_backend() {
  return std::make_unique<SqliteBackend>();
}
std::unique_ptr<StoreBackend> make_postgres_backend() {
  return std::make_unique<PostgresBackend>();
}

}  // namespace hashlock::testsupport
