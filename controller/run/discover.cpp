#include "controller/run/discover.hpp"

#include <algorithm>
#include <optional>

#include "common/proto/reply.hpp"

namespace ticksplit::ctl {

Result<ClusterInfo> discover(Agents& client, const std::vector<std::string>& agents) {
  std::vector<std::pair<std::string, ei::Term>> reqs;
  for (const auto& a : agents) reqs.emplace_back(a, ei::atom("status"));
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

}  // namespace ticksplit::ctl
