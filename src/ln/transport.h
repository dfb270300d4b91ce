// PeerTransport: how a node's messages reach its peers.
//
// InProcessNetwork connects nodes in one process for tests and the
// simulator. Messages travel encoded, in FIFO order per (from, to) pair —
// the only reordering the protocol allows is between different peers. A
// disconnect drops every message in flight between the two, both ways.
// Delivery happens only when the driver says so (deliver_one / deliver_all),
// which lets tests hold, drop and interleave messages. The handler of each
// node is registered by the driver. Thread-safety: none.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "ln/htlc.h"

namespace hashlock::ln {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Queues `message` from `from` to `to`; dropped if they are not connected.
  virtual void send(NodeId from, NodeId to, Bytes message) = 0;
  virtual bool connected(NodeId a, NodeId b) const = 0;
};

inline constexpr size_t kMaxQueuedMessagesPerLink = 100'000;
inline constexpr size_t kMaxDeliveriesPerSettle = 1'000'000;

class InProcessNetwork final : public PeerTransport {
 public:
  using Handler = std::function<void(NodeId from, const Bytes& message)>;

  void set_handler(NodeId node, Handler handler) { handlers_[node] = std::move(handler); }

  void send(NodeId from, NodeId to, Bytes message) override;
  bool connected(NodeId a, NodeId b) const override;

  void connect(NodeId a, NodeId b);
  void disconnect(NodeId a, NodeId b);

  // Delivers the oldest message from `from` to `to`; false if there is none.
  bool deliver_one(NodeId from, NodeId to);
  // Drops the oldest message from `from` to `to`.
  bool drop_one(NodeId from, NodeId to);
  // Delivers until no message is in flight or the limit is hit; returns the
  // number delivered.
  size_t deliver_all(size_t limit = kMaxDeliveriesPerSettle);
  size_t in_flight() const;
  size_t in_flight(NodeId from, NodeId to) const;
  std::vector<std::pair<NodeId, NodeId>> busy_links() const;
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  using Link = std::pair<NodeId, NodeId>;
  static Link undirected(NodeId a, NodeId b) { return a < b ? Link{a, b} : Link{b, a}; }

  std::map<NodeId, Handler> handlers_;
  std::map<Link, std::deque<Bytes>> queues_;
  std::set<Link> connected_;
  uint64_t messages_sent_ = 0;
  uint64_t bytes_sent_ = 0;
};

}  // namespace hashlock::ln
