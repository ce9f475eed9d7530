#include "controller/run/cnode_agents.hpp"

#include "common/clock.hpp"

#include <poll.h>

#include <chrono>

#include "common/ei/decode.hpp"
#include "common/proto/request.hpp"
#include "common/node_name.hpp"

namespace ticksplit::ctl {

namespace {
constexpr unsigned kIoTimeoutMs = 1000;
using Clock = std::chrono::steady_clock;
}  // namespace

CnodeAgents::CnodeAgents(const std::string& name, const std::string& cookie) : cnode_(name, cookie) {}

Status CnodeAgents::connect(const std::vector<std::string>& agents, unsigned timeout_ms) {
  for (const auto& a : agents) {
    if (conns_.count(a)) continue;
    auto c = cnode_.connect(a, timeout_ms);
    if (!c) return Error{c.error().domain, c.error().code, "agent " + a + " does not answer: " + c.error().message};
    conns_.emplace(a, std::move(c).value());
  }
  return success();
}

std::map<std::string, Result<ei::Term>> CnodeAgents::call_all(
    const std::vector<std::pair<std::string, ei::Term>>& requests, unsigned timeout_ms) {
  std::map<std::string, Result<ei::Term>> out;
  std::map<std::string, std::int64_t> tags;
  const auto self = cnode_.self();
  for (const auto& [agent, req] : requests) {
    auto it = conns_.find(agent);
    if (it == conns_.end()) {
      out.emplace(agent, protocol_error("not connected to agent " + agent));
      continue;
    }
    const std::int64_t tag = next_tag_++;
    // gen_server's '$gen_call' with our pid and an integer tag; the agent echoes the tag.
    auto msg = proto::gen_call_term({self, ei::Term(tag), req});
    if (auto s = it->second->reg_send(cnode_.ec(), agent_registered_name, msg, kIoTimeoutMs); !s) {
      out.emplace(agent, s.error());
      drop(agent, s.error().message);
      continue;
    }
    tags[agent] = tag;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    for (auto it = tags.begin(); it != tags.end();) {
      if (auto r = replies_.find(it->second); r != replies_.end()) {
        out.emplace(it->first, std::move(r->second));
        replies_.erase(r);
        it = tags.erase(it);
      } else if (!conns_.count(it->first)) {
        out.emplace(it->first, protocol_error("connection to agent " + it->first + " lost"));
        it = tags.erase(it);
      } else {
        ++it;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (tags.empty() || left <= 0) break;
    pump(static_cast<int>(left), -1);
  }
  for (const auto& [agent, tag] : tags)
    out.emplace(agent,
                protocol_error("agent " + agent + " did not answer within " + std::to_string(timeout_ms) + " ms"));
  return out;
}

Result<ei::Term> CnodeAgents::call(const std::string& agent, const ei::Term& request, unsigned timeout_ms) {
  auto all = call_all({{agent, request}}, timeout_ms);
  return std::move(all.at(agent));
}

std::vector<AgentEvent> CnodeAgents::events(int wait_ms, int wake_fd) {
  if (events_.empty()) pump(wait_ms, wake_fd);
  replies_.clear();  // nobody waits for them any more
  return std::exchange(events_, {});
}

std::vector<std::pair<std::string, std::string>> CnodeAgents::take_lost() { return std::exchange(lost_, {}); }

void CnodeAgents::drop(const std::string& agent, const std::string& why) {
  if (conns_.erase(agent) > 0) lost_.emplace_back(agent, why);
}

void CnodeAgents::pump(int wait_ms, int wake_fd) {
  std::vector<pollfd> fds;
  std::vector<std::string> agents;
  for (const auto& [agent, c] : conns_) {
    fds.push_back({c->fd(), POLLIN, 0});
    agents.push_back(agent);
  }
  if (wake_fd >= 0) fds.push_back({wake_fd, POLLIN, 0});
  if (::poll(fds.data(), fds.size(), wait_ms) <= 0) return;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto it = conns_.find(agents[i]);
    if (it == conns_.end()) continue;
    erlang_msg msg{};
    ei::XBuff payload;
    auto got = it->second->receive(msg, payload, kIoTimeoutMs);
    if (!got) {
      drop(agents[i], got.error().message);
      continue;
    }
    if (*got != cnode::Connection::Got::message || (msg.msgtype != ERL_SEND && msg.msgtype != ERL_REG_SEND)) continue;
    auto term = ei::decode(payload.bytes());
    if (!term) continue;
    if (const auto* ev = term->tuple_of(3); ev != nullptr && (*ev)[0].is_atom("ticksplit_event")) {
      if (auto e = proto::event_from_term((*ev)[2])) events_.push_back({agents[i], std::move(e).value()});
      continue;
    }
    if (const auto* reply = term->tuple_of(2))
      if (const auto* tag = (*reply)[0].as<std::int64_t>()) replies_[*tag] = (*reply)[1];
  }
}

std::int64_t CnodeAgents::now_us() { return clock::unix_us(); }

}  // namespace ticksplit::ctl
