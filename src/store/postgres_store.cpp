#include "store/postgres_store.h"

#include <pqxx/pqxx>

namespace hashlock::store {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS hashlock_kv ("
    " ns TEXT NOT NULL, key BYTEA NOT NULL, value BYTEA NOT NULL, version BIGINT NOT NULL,"
    " PRIMARY KEY (ns, key))";

// Thrown inside a transaction body to roll it back with a Conflict.
struct ConflictAbort {
  std::string message;
};

pqxx::binarystring as_binary(const std::string& data) {
  return pqxx::binarystring(data);
}
pqxx::binarystring as_binary(const Bytes& data) {
  return pqxx::binarystring(data.data(), data.size());
}

Bytes bytes_of(const pqxx::field& field) {
  pqxx::binarystring blob(field);
  return Bytes(blob.data(), blob.data() + blob.size());
}

std::string string_of(const pqxx::field& field) {
  pqxx::binarystring blob(field);
  return blob.str();
}

util::Status backend_error(const std::string& what, const std::exception& e) {
  return util::io_error("postgres: " + what + ": " + e.what());
}

}  // namespace

struct PostgresStore::Connection {
  explicit Connection(const std::string& url) : connection(url) {}
  pqxx::connection connection;
};

PostgresStore::PostgresStore(const std::string& url, std::unique_ptr<Connection> connection)
    : KVStore(url), connection_(std::move(connection)) {}

PostgresStore::~PostgresStore() = default;

std::string PostgresStore::version_key(const std::string& ns, const std::string& key) {
  std::string out = ns;
  out.push_back('\0');
  out += key;
  return out;
}

util::Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& url) {
  try {
    auto connection = std::make_unique<Connection>(url);
    pqxx::work txn(connection->connection);
    txn.exec0(kSchema);
    txn.commit();
    return std::unique_ptr<PostgresStore>(new PostgresStore(url, std::move(connection)));
  } catch (const std::exception& e) {
    return backend_error("cannot open " + url, e);
  }
}

util::Result<std::optional<Bytes>> PostgresStore::do_get(const std::string& ns,
                                                         const std::string& key) {
  try {
    pqxx::read_transaction txn(connection_->connection);
    pqxx::result rows = txn.exec_params(
        "SELECT value, version FROM hashlock_kv WHERE ns = $1 AND key = $2", ns, as_binary(key));
    if (rows.empty()) {
      versions_[version_key(ns, key)] = 0;
      return std::optional<Bytes>();
    }
    versions_[version_key(ns, key)] = rows[0][1].as<int64_t>();
    return std::optional<Bytes>(bytes_of(rows[0][0]));
  } catch (const std::exception& e) {
    return backend_error("get", e);
  }
}

util::Result<std::vector<Entry>> PostgresStore::do_list(const std::string& ns,
                                                        const std::string& prefix) {
  try {
    pqxx::read_transaction txn(connection_->connection);
    const std::optional<std::string> upper = prefix_upper_bound(prefix);
    pqxx::result rows =
        upper ? txn.exec_params(
                    "SELECT key, value, version FROM hashlock_kv WHERE ns = $1 AND key >= $2 AND "
                    "key < $3 ORDER BY key",
                    ns, as_binary(prefix), as_binary(*upper))
              : txn.exec_params(
                    "SELECT key, value, version FROM hashlock_kv WHERE ns = $1 AND key >= $2 "
                    "ORDER BY key",
                    ns, as_binary(prefix));
    std::vector<Entry> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      Entry entry{string_of(row[0]), bytes_of(row[1])};
      versions_[version_key(ns, entry.key)] = row[2].as<int64_t>();
      out.push_back(std::move(entry));
    }
    return out;
  } catch (const std::exception& e) {
    return backend_error("list", e);
  }
}

util::Result<std::vector<std::string>> PostgresStore::do_list_namespaces() {
  try {
    pqxx::read_transaction txn(connection_->connection);
    std::vector<std::string> out;
    for (const auto& row : txn.exec("SELECT DISTINCT ns FROM hashlock_kv ORDER BY ns")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  } catch (const std::exception& e) {
    return backend_error("namespaces", e);
  }
}

util::Status PostgresStore::do_write(const WriteBatch& framed, Durability durability) {
  std::unordered_map<std::string, int64_t> written;  // versions after commit
  try {
    pqxx::work txn(connection_->connection);
    if (durability == Durability::kBuffered) txn.exec0("SET LOCAL synchronous_commit TO OFF");
    for (const auto& expectation : framed.expectations()) {
      pqxx::result rows = txn.exec_params(
          "SELECT value, version FROM hashlock_kv WHERE ns = $1 AND key = $2 FOR UPDATE",
          expectation.ns, as_binary(expectation.key));
      std::optional<Bytes> current;
      if (!rows.empty()) current = bytes_of(rows[0][0]);
      if (current != expectation.value) {
        throw ConflictAbort{expectation.ns + "/" + printable_key(expectation.key) +
                            " changed under this writer"};
      }
      written[version_key(expectation.ns, expectation.key)] =
          rows.empty() ? 0 : rows[0][1].as<int64_t>();
    }
    for (const auto& op : framed.ops()) {
      const std::string vkey = version_key(op.ns, op.key);
      auto pending = written.find(vkey);
      auto known = versions_.find(vkey);
      std::optional<int64_t> expected;
      if (pending != written.end()) {
        expected = pending->second;
      } else if (known != versions_.end()) {
        expected = known->second;
      }
      pqxx::result rows;
      if (op.kind == WriteBatch::OpKind::kRemove) {
        rows =
            txn.exec_params("DELETE FROM hashlock_kv WHERE ns = $1 AND key = $2 RETURNING version",
                            op.ns, as_binary(op.key));
        const int64_t found = rows.empty() ? 0 : rows[0][0].as<int64_t>();
        if (expected.value_or(0) != found) {
          throw ConflictAbort{op.ns + "/" + printable_key(op.key) + " changed under this writer"};
        }
        written[vkey] = 0;
        continue;
      }
      if (expected.value_or(0) == 0) {
        rows = txn.exec_params(
            "INSERT INTO hashlock_kv (ns, key, value, version) VALUES ($1, $2, $3, 1) "
            "ON CONFLICT DO NOTHING RETURNING version",
            op.ns, as_binary(op.key), as_binary(op.value));
      } else {
        rows = txn.exec_params(
            "UPDATE hashlock_kv SET value = $3, version = version + 1 "
            "WHERE ns = $1 AND key = $2 AND version = $4 RETURNING version",
            op.ns, as_binary(op.key), as_binary(op.value), *expected);
      }
      if (rows.empty()) {
        throw ConflictAbort{op.ns + "/" + printable_key(op.key) +
                            (expected ? " changed under this writer"
                                      : " exists but was never read by this writer")};
      }
      written[vkey] = rows[0][0].as<int64_t>();
    }
    txn.commit();
  } catch (const ConflictAbort& abort) {
    return util::conflict("store: " + abort.message);
  } catch (const pqxx::serialization_failure& e) {
    return util::conflict(std::string("store: concurrent write: ") + e.what());
  } catch (const std::exception& e) {
    return backend_error("write", e);
  }
  for (auto& [key, version] : written) versions_[key] = version;
  return util::Status::ok();
}

util::Status PostgresStore::do_sync() {
  try {
    // A transaction that holds an id writes a commit record; committing it
    // synchronously flushes the WAL up to it, and so every earlier commit.
    pqxx::work txn(connection_->connection);
    txn.exec0("SET LOCAL synchronous_commit TO ON");
    txn.exec("SELECT txid_current()");
    txn.commit();
    return util::Status::ok();
  } catch (const std::exception& e) {
    return backend_error("sync", e);
  }
}

}  // namespace hashlock::store
