// Node: one Lightning node assembled from its parts, for embedding, tests and
// the simulator.
//
// A Node owns its persister, chain monitor and channel manager, and borrows
// the store and the transport, which outlive it. start() creates the node on
// an empty store or restarts it from what the store kept: the monitors are
// read back first, then the manager state, then they are reconciled. To
// simulate a crash, destroy the Node, crash the store, and start() again.
// Thread-safety: none.
#pragma once

#include <memory>

#include "ln/manager.h"

namespace hashlock::ln {

struct NodeOptions {
  ManagerConfig manager;
  bool async_persistence = false;
  uint64_t snapshot_every_updates = kDefaultSnapshotEveryUpdates;
};

class Node {
 public:
  static util::Result<std::unique_ptr<Node>> start(const NodeOptions& options,
                                                   store::KVStore& store, PeerTransport& transport);

  ChannelManager& manager() { return *manager_; }
  const ChannelManager& manager() const { return *manager_; }
  ChainMonitor& chain_monitor() { return *chain_monitor_; }
  // The asynchronous persister, or null when persistence is synchronous.
  AsyncPersister* async_persister() { return async_; }
  NodeId id() const { return options_.manager.node_id; }
  bool restarted() const { return restarted_; }

 private:
  Node() = default;

  NodeOptions options_;
  std::unique_ptr<StorePersister> persister_;
  AsyncPersister* async_ = nullptr;
  std::unique_ptr<ChainMonitor> chain_monitor_;
  std::unique_ptr<ChannelManager> manager_;
  bool restarted_ = false;
};

}  // namespace hashlock::ln
