#include "ln/transport.h"

namespace hashlock::ln {

void InProcessNetwork::send(NodeId from, NodeId to, Bytes message) {
  if (!connected(from, to)) return;
  auto& queue = queues_[{from, to}];
  if (queue.size() >= kMaxQueuedMessagesPerLink) return;  // a flooded link behaves as a lossy one
  ++messages_sent_;
  bytes_sent_ += message.size();
  queue.push_back(std::move(message));
}

bool InProcessNetwork::connected(NodeId a, NodeId b) const {
  return connected_.count(undirected(a, b)) > 0;
}

void InProcessNetwork::connect(NodeId a, NodeId b) {
  connected_.insert(undirected(a, b));
}

void InProcessNetwork::disconnect(NodeId a, NodeId b) {
  connected_.erase(undirected(a, b));
  queues_.erase({a, b});
  queues_.erase({b, a});
}

bool InProcessNetwork::deliver_one(NodeId from, NodeId to) {
  auto it = queues_.find({from, to});
  if (it == queues_.end() || it->second.empty()) return false;
  Bytes message = std::move(it->second.front());
  it->second.pop_front();
  auto handler = handlers_.find(to);
  if (handler != handlers_.end()) handler->second(from, message);
  return true;
}

bool InProcessNetwork::drop_one(NodeId from, NodeId to) {
  auto it = queues_.find({from, to});
  if (it == queues_.end() || it->second.empty()) return false;
  it->second.pop_front();
  return true;
}

size_t InProcessNetwork::deliver_all(size_t limit) {
  size_t delivered = 0;
  bool progress = true;
  while (progress && delivered < limit) {
    progress = false;
    for (const auto& [from, to] : busy_links()) {
      if (delivered >= limit) break;
      if (deliver_one(from, to)) {
        ++delivered;
        progress = true;
      }
    }
  }
  return delivered;
}

size_t InProcessNetwork::in_flight() const {
  size_t count = 0;
  for (const auto& [link, queue] : queues_) count += queue.size();
  return count;
}

size_t InProcessNetwork::in_flight(NodeId from, NodeId to) const {
  auto it = queues_.find({from, to});
  return it == queues_.end() ? 0 : it->second.size();
}

std::vector<std::pair<NodeId, NodeId>> InProcessNetwork::busy_links() const {
  std::vector<Link> out;
  for (const auto& [link, queue] : queues_) {
    if (!queue.empty()) out.push_back(link);
  }
  return out;
}

}  // namespace hashlock::ln
