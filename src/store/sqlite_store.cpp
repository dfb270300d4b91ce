#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <memory>

#include "util/check.h"

namespace hashlock::store {

// A prepared statement, finalised on destruction.
class SqliteStore::Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    status_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepared() const { return status_ == SQLITE_OK; }
  void bind_text(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_blob(int index, const void* data, size_t size) {
    // A zero-length blob must still be a blob, never NULL.
    static const char kEmpty = 0;
    sqlite3_bind_blob(stmt_, index, size == 0 ? &kEmpty : data, static_cast<int>(size),
                      SQLITE_STATIC);
  }
  void bind_key(int index, const std::string& key) { bind_blob(index, key.data(), key.size()); }
  int step() { return sqlite3_step(stmt_); }
  // Makes the statement ready to bind and run again.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string column_string(int column) {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }
  Bytes column_bytes(int column) {
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return Bytes(data, data + size);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int status_ = SQLITE_ERROR;
};

SqliteStore::SqliteStore(std::string url, sqlite3* db, SqliteOptions options)
    : KVStore(std::move(url)), db_(db), options_(std::move(options)) {}

SqliteStore::~SqliteStore() {
  finalize_statements();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void SqliteStore::finalize_statements() {
  get_.reset();
  put_.reset();
  remove_.reset();
}

SqliteStore::Statement* SqliteStore::cached(std::unique_ptr<Statement>& slot, const char* sql) {
  if (slot == nullptr) {
    auto prepared = std::make_unique<Statement>(db_, sql);
    if (!prepared->prepared()) return nullptr;
    slot = std::move(prepared);
  }
  return slot.get();
}

void SqliteStore::close_abruptly() {
  // A checkpoint on close would flush the WAL into the database; a killed
  // process never gets there. Disabling it keeps the files as a crash leaves them.
  if (db_ == nullptr) return;
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  finalize_statements();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

util::Status SqliteStore::error(const char* what) const {
  return util::io_error(std::string("sqlite ") + options_.path + ": " + what + ": " +
                        sqlite3_errmsg(db_));
}

util::Status SqliteStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return util::io_error("sqlite " + options_.path + ": " + sql + ": " + text);
  }
  return util::Status::ok();
}

util::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options) {
  if (options.path.empty())
    return util::invalid_argument("sqlite store needs a path (sqlite:PATH)");
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(options.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return util::io_error("cannot open sqlite store " + options.path + ": " + message);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore("sqlite:" + options.path, db, options));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  HASHLOCK_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL"));
  HASHLOCK_RETURN_IF_ERROR(store->exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                                : "PRAGMA synchronous=NORMAL"));
  HASHLOCK_RETURN_IF_ERROR(
      store->exec(("PRAGMA cache_size=-" + std::to_string(options.cache_kib)).c_str()));
  // A rowid table: its (ns, key) index holds only the keys. (In a WITHOUT
  // ROWID table the whole row is the index entry, so finding any key could
  // read through a large value on the way, such as the channel manager's
  // state.) Files created with the older WITHOUT ROWID schema keep it and
  // work as before.
  HASHLOCK_RETURN_IF_ERROR(store->exec(
      "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
      " PRIMARY KEY (ns, key))"));
  // A file that is not a database, or a damaged one, fails here or on first read.
  HASHLOCK_RETURN_IF_ERROR(store->exec("SELECT count(*) FROM kv WHERE 0"));
  return store;
}

util::Result<std::optional<Bytes>> SqliteStore::do_get(const std::string& ns,
                                                       const std::string& key) {
  if (db_ == nullptr) return util::io_error("sqlite store is closed");
  Statement* stmt = cached(get_, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
  if (stmt == nullptr) return error("prepare get");
  stmt->bind_text(1, ns);
  stmt->bind_key(2, key);
  const int rc = stmt->step();
  std::optional<Bytes> value;
  if (rc == SQLITE_ROW) value = stmt->column_bytes(0);
  const util::Status status =
      rc == SQLITE_ROW || rc == SQLITE_DONE ? util::Status::ok() : error("get");
  // Reset at once: a statement left on a row would hold its read transaction open.
  stmt->reset();
  HASHLOCK_RETURN_IF_ERROR(status);
  return value;
}

util::Result<std::vector<Entry>> SqliteStore::do_list(const std::string& ns,
                                                      const std::string& prefix) {
  if (db_ == nullptr) return util::io_error("sqlite store is closed");
  const std::optional<std::string> upper = prefix_upper_bound(prefix);
  Statement stmt(
      db_, upper ? "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key"
                 : "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 ORDER BY key");
  if (!stmt.prepared()) return error("prepare list");
  stmt.bind_text(1, ns);
  stmt.bind_key(2, prefix);
  if (upper) stmt.bind_key(3, *upper);
  std::vector<Entry> out;
  int rc = SQLITE_ROW;
  while ((rc = stmt.step()) == SQLITE_ROW)
    out.push_back(Entry{stmt.column_string(0), stmt.column_bytes(1)});
  if (rc != SQLITE_DONE) return error("list");
  return out;
}

util::Result<std::vector<std::string>> SqliteStore::do_list_namespaces() {
  if (db_ == nullptr) return util::io_error("sqlite store is closed");
  Statement stmt(db_, "SELECT DISTINCT ns FROM kv ORDER BY ns");
  if (!stmt.prepared()) return error("prepare namespaces");
  std::vector<std::string> out;
  int rc = SQLITE_ROW;
  while ((rc = stmt.step()) == SQLITE_ROW) out.push_back(stmt.column_string(0));
  if (rc != SQLITE_DONE) return error("namespaces");
  return out;
}

util::Status SqliteStore::apply_batch(const WriteBatch& framed) {
  for (const auto& expectation : framed.expectations()) {
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> current,
                              do_get(expectation.ns, expectation.key));
    if (current != expectation.value) {
      return util::conflict("store: " + expectation.ns + "/" + printable_key(expectation.key) +
                            " changed under this writer");
    }
  }
  Statement* put = cached(put_, "INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3)");
  Statement* remove = cached(remove_, "DELETE FROM kv WHERE ns = ?1 AND key = ?2");
  if (put == nullptr || remove == nullptr) return error("prepare write");
  for (const auto& op : framed.ops()) {
    Statement& stmt = op.kind == WriteBatch::OpKind::kPut ? *put : *remove;
    stmt.bind_text(1, op.ns);
    stmt.bind_key(2, op.key);
    if (op.kind == WriteBatch::OpKind::kPut) stmt.bind_blob(3, op.value.data(), op.value.size());
    const int rc = stmt.step();
    stmt.reset();
    if (rc != SQLITE_DONE) return error("write");
  }
  return util::Status::ok();
}

util::Status SqliteStore::do_write(const WriteBatch& framed, Durability durability) {
  if (db_ == nullptr) return util::io_error("sqlite store is closed");
  const bool buffered = durability == Durability::kBuffered;
  if (buffered) HASHLOCK_RETURN_IF_ERROR(exec("PRAGMA synchronous=OFF"));
  util::Status status = exec("BEGIN IMMEDIATE");
  if (status.is_ok()) {
    status = apply_batch(framed);
    if (status.is_ok()) {
      status = exec("COMMIT");
    } else {
      (void)exec("ROLLBACK");  // the batch's own error is the one to report
    }
  }
  if (buffered) {
    const util::Status restored =
        exec(options_.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (status.is_ok()) status = restored;
  }
  return status;
}

util::Status SqliteStore::do_sync() {
  if (db_ == nullptr) return util::io_error("sqlite store is closed");
  // A checkpoint fsyncs the WAL (and so every buffered commit) before it
  // copies pages into the database, and fsyncs the database after.
  int log_frames = 0;
  int checkpointed = 0;
  if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                &checkpointed) != SQLITE_OK) {
    return error("checkpoint");
  }
  return util::Status::ok();
}

}  // namespace hashlock::store
