// StoreBackend: how the conformance suite makes, reopens and damages a store
// of each kind. One private PostgreSQL server serves every PostgreSQL test of
// a process; it starts on first use and stops at exit.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "store/kv_store.h"

namespace hashlock::testsupport {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::string name() const = 0;
  // The store under test; valid until the next reopen().
  virtual store::KVStore& store() = 0;
  // Closes the store as a restarting process would and opens it again.
  virtual void reopen() = 0;
  // Opens a second, independent handle on the same data.
  virtual std::unique_ptr<store::KVStore> open_another() = 0;
  // Flips a bit of the stored bytes of ns/key behind the store's back.
  virtual void corrupt(const std::string& ns, const std::string& key) = 0;
};

std::unique_ptr<StoreBackend> make_memory_backend();
std::unique_ptr<StoreBackend> make_sqlite_backend();
std::unique_ptr<StoreBackend> make_postgres_backend();

// "postgresql://..." of a fresh database on the shared private server.
std::string fresh_postgres_database();

}  // namespace hashlock::testsupport
