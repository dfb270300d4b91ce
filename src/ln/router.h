// NetworkGraph and find_route: choosing a route for a payment.
//
// The graph is the node's view of the network: directed edges (a channel
// usable from `from` to `to`, its capacity, and the fee policy `from`
// charges to forward into it). find_route searches backwards from the
// receiver (fees depend on the amount still to be carried) with Dijkstra on
// the total fee, never using an edge too small for the amount it must carry
// and never exceeding the expiry limit; among equal fees it prefers the
// shorter total expiry. With an expiry limit this is a heuristic for a
// constrained shortest path: it may miss a cheaper route that only fits the
// limit by taking a dearer prefix. Thread-safety: none; a value type.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "ln/onion.h"

namespace hashlock::ln {

struct GraphEdge {
  ChannelId channel_id;
  NodeId from;
  NodeId to;
  AmountMsat capacity;
  FeePolicy policy;  // what `from` charges to forward into this channel
};

class NetworkGraph {
 public:
  void add_edge(const GraphEdge& edge) { edges_.push_back(edge); }
  void remove_channel(const ChannelId& channel_id);
  // Sets the fees advertised for forwarding into `channel_id` (by `from`, or
  // by either end), keeping each edge's expiry delta. Returns the edges changed.
  size_t set_fees(const ChannelId& channel_id, std::optional<NodeId> from, AmountMsat base_fee,
                  uint32_t proportional_millionths);
  const std::vector<GraphEdge>& edges() const { return edges_; }

 private:
  std::vector<GraphEdge> edges_;
};

struct FoundRoute {
  std::vector<RouteHop> hops;
  AmountMsat fees;
  uint32_t total_cltv = 0;
};

inline constexpr size_t kMaxGraphEdges = 1'000'000;

util::Result<FoundRoute> find_route(const NetworkGraph& graph, NodeId payer, NodeId payee,
                                    AmountMsat amount, uint32_t final_cltv,
                                    uint32_t max_total_cltv);

}  // namespace hashlock::ln
