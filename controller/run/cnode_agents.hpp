// The controller's side of the agent protocol: a hidden C-node connected to every agent,
// gen_server calls sent to all agents before any reply is awaited, and the events of
// subscriptions as they arrive, on the real clock.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cnode/cnode.hpp"
#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"
#include "controller/run/agents.hpp"

namespace ticksplit::ctl {

class CnodeAgents final : public Agents {
 public:
  // Throws ConfigError if the C-node cannot be set up.
  CnodeAgents(const std::string& name, const std::string& cookie);

  // Connects to each agent; the Error names the first that failed.
  Status connect(const std::vector<std::string>& agents, unsigned timeout_ms);
  [[nodiscard]] const std::string& name() const { return cnode_.name(); }
  ei::Pid self() override { return cnode_.self(); }

  // One request per agent, all sent before any reply is awaited. A missing reply after
  // timeout_ms is an Error for that agent.
  std::map<std::string, Result<ei::Term>> call_all(const std::vector<std::pair<std::string, ei::Term>>& requests,
                                                   unsigned timeout_ms) override;
  Result<ei::Term> call(const std::string& agent, const ei::Term& request, unsigned timeout_ms);

  // Waits up to wait_ms for events (or until `wake_fd`, if given, is readable); returns
  // every event read. Replies to calls that timed out are dropped here.
  std::vector<AgentEvent> events(int wait_ms, int wake_fd) override;
  std::vector<std::pair<std::string, std::string>> take_lost() override;
  std::int64_t now_us() override;

 private:
  // Reads what is ready within wait_ms; replies go to replies_, events to events_.
  void pump(int wait_ms, int wake_fd);
  void drop(const std::string& agent, const std::string& why);

  cnode::CNode cnode_;
  std::map<std::string, std::unique_ptr<cnode::Connection>> conns_;  // by agent
  std::map<std::int64_t, ei::Term> replies_;                         // by tag
  std::vector<AgentEvent> events_;
  std::vector<std::pair<std::string, std::string>> lost_;
  std::int64_t next_tag_ = 1;
};

}  // namespace ticksplit::ctl
