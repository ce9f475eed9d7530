#include "controller/run/status_heal.hpp"

#include <utility>

#include "common/proto/reply.hpp"
#include "common/proto/request.hpp"

namespace ticksplit::ctl {

namespace {

template <class Read>
std::vector<AgentReply> ask(Agents& agents, const std::vector<std::string>& names, const proto::Request& request,
                            Read read) {
  std::vector<std::pair<std::string, ei::Term>> calls;
  for (const auto& n : names) calls.emplace_back(n, proto::to_term(request));
  auto replies = agents.call_all(calls, call_timeout_ms);
  std::vector<AgentReply> out;
  for (const auto& n : names) {
    AgentReply r{n, {}, {}, {}};
    const auto it = replies.find(n);
    if (it == replies.end())
      r.error = "no reply";
    else if (!it->second)
      r.error = it->second.error().message;
    else
      read(it->second.value(), r);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<AgentReply> ask_status(Agents& agents, const std::vector<std::string>& names) {
  return ask(agents, names, proto::StatusRequest{}, [](const ei::Term& reply, AgentReply& r) {
    auto s = proto::parse_status_reply(reply);
    if (s)
      r.status = std::move(s).value();
    else
      r.error = s.error().message;
  });
}

std::vector<AgentReply> heal_all(Agents& agents, const std::vector<std::string>& names) {
  return ask(agents, names, proto::HealAllRequest{}, [](const ei::Term& reply, AgentReply& r) {
    const auto* ok = reply.tuple_of(2);
    const auto* n = ok != nullptr && (*ok)[0].is_atom("ok") ? (*ok)[1].as<std::int64_t>() : nullptr;
    if (n != nullptr)
      r.healed = *n;
    else
      r.error = proto::refused_text(reply).value_or("unexpected reply " + ei::to_string(reply));
  });
}

}  // namespace ticksplit::ctl
