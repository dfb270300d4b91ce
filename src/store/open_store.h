// Opening a store by URL.
//
//   sqlite:PATH[?synchronous=full|normal&busy_timeout_ms=N]   (the default backend)
//   postgres://USER@HOST:PORT/DB  or  postgresql://...
//   memory:[?seed=N&torn=1]                                   (tests and simulations)
//
// A URL with an unknown scheme or option is an InvalidArgument that lists
// what is accepted.
#pragma once

#include <memory>
#include <string_view>

#include "store/kv_store.h"

namespace hashlock::store {

util::Result<std::unique_ptr<KVStore>> open_store(std::string_view url);

}  // namespace hashlock::store
