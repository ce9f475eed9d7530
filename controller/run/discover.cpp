#include "controller/run/discover.hpp"

#include <algorithm>
#include <optional>

#include "common/net/resolve.hpp"
#include "common/node_name.hpp"
#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::ctl {

Result<ClusterInfo> discover(Agents& client, const std::vector<std::string>& agents) {
  std::vector<std::pair<std::string, ei::Term>> reqs;
  for (const auto& a : agents) reqs.emplace_back(a, proto::to_term(proto::StatusRequest{}));
  ClusterInfo c;
  std::optional<std::pair<std::string, proto::AgentStatus>> first;
  for (auto& [agent, r] : client.call_all(reqs, call_timeout_ms)) {
    if (!r) return Error{Domain::protocol, 0, "agent " + agent + ": " + r.error().message};
    auto s = proto::parse_status_reply(*r);
    if (!s) return Error{Domain::protocol, 0, "agent " + agent + ": " + s.error().message};
    for (const auto& n : s->nodes) {
      if (!n.connected) return Error{Domain::protocol, 0, "agent " + agent + " has not joined its node " + n.node};
      c.nodes.push_back(n.node);
      c.agent_of[n.node] = agent;
    }
    if (!s->net_ticktime_ms || !s->tick_intensity)
      return Error{Domain::protocol, 0, "agent " + agent + " does not know its node's net_ticktime yet"};
    if (first &&
        (first->second.net_ticktime_ms != s->net_ticktime_ms || first->second.tick_intensity != s->tick_intensity))
      return Error{Domain::protocol, 0,
                   "the agents disagree on the tick: " + first->first + " reports net_ticktime " +
                       std::to_string(*first->second.net_ticktime_ms) + " ms, intensity " +
                       std::to_string(*first->second.tick_intensity) + "; " + agent + " reports " +
                       std::to_string(*s->net_ticktime_ms) + " ms, intensity " + std::to_string(*s->tick_intensity)};
    if (!first) first.emplace(agent, *s);
  }
  c.net_ticktime_ms = *first->second.net_ticktime_ms;
  c.tick_intensity = *first->second.tick_intensity;
  std::sort(c.nodes.begin(), c.nodes.end());
  return c;
}

Result<ClusterInfo> cluster_of_schedule(const Schedule& s) {
  ClusterInfo cluster;
  cluster.nodes = s.nodes;
  cluster.net_ticktime_ms = s.net_ticktime_ms.value_or(0);
  cluster.tick_intensity = s.tick_intensity.value_or(4);
  for (const auto& n : cluster.nodes) {  // an agent on the same host serves a node
    const auto host = net::node_host(n);
    for (const auto& a : s.agents)
      if (net::node_host(a) == host) cluster.agent_of[n] = a;
    if (cluster.agent_of.count(n)) continue;
    auto agent = default_agent_of(n);
    if (!agent) return Error{Domain::config, 0, "no agent for node " + n + " (name one in 'agents')"};
    cluster.agent_of[n] = *agent;
  }
  return cluster;
}

}  // namespace ticksplit::ctl
