#include "ln/router.h"

#include <algorithm>
#include <queue>
#include <set>

namespace hashlock::ln {
namespace {

// The cheapest known way from a node to the payee.
struct Label {
  AmountMsat send;              // what the node puts into its next channel
  uint32_t cltv = 0;            // the expiry of that HTLC
  AmountMsat fees;              // fees paid from here to the payee
  size_t next_edge = SIZE_MAX;  // SIZE_MAX: this node is the payee
};

}  // namespace

void NetworkGraph::remove_channel(const ChannelId& channel_id) {
  edges_.erase(std::remove_if(edges_.begin(), edges_.end(),
                              [&](const GraphEdge& e) { return e.channel_id == channel_id; }),
               edges_.end());
}

size_t NetworkGraph::set_fees(const ChannelId& channel_id, std::optional<NodeId> from,
                              AmountMsat base_fee, uint32_t proportional_millionths) {
  size_t changed = 0;
  for (GraphEdge& edge : edges_) {
    if (edge.channel_id != channel_id || (from && edge.from != *from)) continue;
    edge.policy.base_fee = base_fee;
    edge.policy.proportional_millionths = proportional_millionths;
    ++changed;
  }
  return changed;
}

util::Result<FoundRoute> find_route(const NetworkGraph& graph, NodeId payer, NodeId payee,
                                    AmountMsat amount, uint32_t final_cltv,
                                    uint32_t max_total_cltv) {
  if (payer == payee) return util::invalid_argument("a route needs a payee other than the payer");
  if (graph.edges().size() > kMaxGraphEdges)
    return util::invalid_argument("the graph is too large to search");
  const auto& edges = graph.edges();
  std::map<NodeId, Label> best;
  using Entry = std::tuple<uint64_t, uint32_t, uint64_t>;  // fees, cltv, node
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  best[payee] = Label{amount, final_cltv, AmountMsat(0), SIZE_MAX};
  queue.emplace(0, final_cltv, payee.value());
  std::set<NodeId> settled;
  while (!queue.empty()) {
    const NodeId node(std::get<2>(queue.top()));
    queue.pop();
    if (!settled.insert(node).second) continue;
    if (node == payer) break;
    const Label here = best.at(node);
    for (size_t i = 0; i < edges.size(); ++i) {
      const GraphEdge& edge = edges[i];
      if (edge.to != node || settled.count(edge.from) > 0) continue;
      // `node` forwards into its next channel for a fee, unless it is the payee.
      AmountMsat carried = here.send;
      uint32_t cltv = here.cltv;
      AmountMsat fees = here.fees;
      if (here.next_edge != SIZE_MAX) {
        const FeePolicy& policy = edges[here.next_edge].policy;
        auto fee = policy.fee_for(here.send);
        if (!fee.is_ok()) continue;
        auto with_fee = carried.checked_add(*fee);
        auto total = fees.checked_add(*fee);
        if (!with_fee.is_ok() || !total.is_ok()) continue;
        carried = *with_fee;
        fees = *total;
        cltv += policy.cltv_expiry_delta;
      }
      if (carried > edge.capacity || cltv > max_total_cltv) continue;
      auto known = best.find(edge.from);
      const bool better = known == best.end() || fees < known->second.fees ||
                          (fees == known->second.fees && cltv < known->second.cltv);
      if (!better) continue;
      best[edge.from] = Label{carried, cltv, fees, i};
      queue.emplace(fees.value(), cltv, edge.from.value());
    }
  }
  auto start = best.find(payer);
  if (start == best.end()) {
    return util::not_found("no route from " + payer.to_string() + " to " + payee.to_string() +
                           " for " + amount.to_string() + " within an expiry of " +
                           std::to_string(max_total_cltv));
  }
  FoundRoute route;
  route.fees = start->second.fees;
  route.total_cltv = start->second.cltv;
  for (NodeId at = payer; at != payee;) {
    const Label& label = best.at(at);
    const GraphEdge& edge = edges[label.next_edge];
    route.hops.push_back(RouteHop{edge.channel_id, edge.policy});
    at = edge.to;
    if (route.hops.size() > kMaxRouteHops)
      return util::not_found("no route within " + std::to_string(kMaxRouteHops) + " hops");
  }
  return route;
}

}  // namespace hashlock::ln
