#include "agent/event_fanout.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/ei/encode.hpp"

namespace ticksplit::agent {

std::vector<std::string> EventFanout::publish(proto::Event e, Sender& sender) {
  const auto& stored = log_.append(std::move(e));
  ei::Term t = proto::to_term(stored);
  spdlog::info("event {}", ei::log_text(t));
  auto msg = ei::encode(proto::event_message(agent_, std::move(t)));
  if (!msg) {
    spdlog::error("cannot encode event: {}", msg.error().message);
    return {};
  }
  std::vector<std::string> broken;
  for (const auto& pid : subscribers_.all()) {
    if (std::find(broken.begin(), broken.end(), pid.node) != broken.end()) continue;
    // Queued, never waited for: a subscriber that stops reading is dropped once its queue
    // passes Stream::max_queued, and the others go on.
    if (sender.send(pid, *msg) == Sender::Sent::failed) broken.push_back(pid.node);
  }
  return broken;
}

}  // namespace ticksplit::agent
