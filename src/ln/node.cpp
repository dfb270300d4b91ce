#include "ln/node.h"

namespace hashlock::ln {

util::Result<std::unique_ptr<Node>> Node::start(const NodeOptions& options, store::KVStore& store,
                                                PeerTransport& transport) {
  std::unique_ptr<Node> node(new Node());
  node->options_ = options;
  if (options.async_persistence) {
    auto async = std::make_unique<AsyncPersister>(store, options.snapshot_every_updates);
    node->async_ = async.get();
    node->persister_ = std::move(async);
  } else {
    node->persister_ = std::make_unique<StorePersister>(store, options.snapshot_every_updates);
  }
  node->chain_monitor_ = std::make_unique<ChainMonitor>(*node->persister_);
  if (node->async_ != nullptr) node->async_->attach(node->chain_monitor_.get());
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ChannelMonitor> monitors, node->persister_->load());
  node->chain_monitor_->restore(std::move(monitors));
  auto loaded = ChannelManager::load(options.manager, store, *node->chain_monitor_, transport);
  if (loaded.is_ok()) {
    node->manager_ = std::move(loaded).value();
    node->restarted_ = true;
    return node;
  }
  if (loaded.status().code() != util::StatusCode::kNotFound) return loaded.status();
  HASHLOCK_ASSIGN_OR_RETURN(
      node->manager_,
      ChannelManager::create(options.manager, store, *node->chain_monitor_, transport));
  return node;
}

}  // namespace hashlock::ln
