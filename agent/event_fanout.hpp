// Where an event goes once it happened: the bounded event log (which gives it its seq), the
// agent's log file (the one place an event is logged), and every subscriber, through a send
// that never waits on its node's connection. The connections are a seam (Sender), so the
// fan-out is unit-tested with a fake.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/event_log.hpp"
#include "agent/subscribers.hpp"
#include "common/ei/term.hpp"
#include "common/ei/xbuff.hpp"
#include "common/proto/event.hpp"

namespace ticksplit::agent {

class EventFanout {
 public:
  class Sender {
   public:
    enum class Sent { queued, no_connection, failed };
    virtual ~Sender() = default;
    // Queues the message for `to` on its node's connection. no_connection: that node is gone
    // (its subscriptions went with it); failed: the connection could not take it (it is
    // dropped, see Stream::max_queued).
    virtual Sent send(const ei::Pid& to, const ei::XBuff& message) = 0;
  };

  EventFanout(std::string agent_name, EventLog& log, Subscribers& subscribers)
      : agent_(std::move(agent_name)), log_(log), subscribers_(subscribers) {}

  // Records the event and sends it to every subscriber as {ticksplit_event, Agent, Event}.
  // Returns the nodes whose connection failed to take it, each once, for the caller to drop.
  std::vector<std::string> publish(proto::Event e, Sender& sender);

 private:
  std::string agent_;
  EventLog& log_;
  Subscribers& subscribers_;
};

}  // namespace ticksplit::agent
