// The agent's bounded in-memory event log. Sequence numbers start at 1 and have no holes;
// when the log is full the oldest event goes, and a reader who asks for it learns how many
// it missed through a log_gap event.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "common/proto/event.hpp"
#include "common/proto/reply.hpp"

namespace ticksplit::agent {

class EventLog {
 public:
  explicit EventLog(std::size_t capacity) : capacity_(capacity) {}

  // Assigns the next seq and time_us (if not set); returns the stored event.
  const proto::Event& append(proto::Event e);

  struct Page {
    std::vector<proto::Event> events;
    std::uint64_t next_seq;  // ask for this next
  };
  // Events with seq >= since, at most `limit` of them and, past the first, at most `max_bytes`
  // encoded (a reply must fit in one packet); a log_gap event first if some were evicted.
  [[nodiscard]] Page since(std::uint64_t since, std::size_t limit, std::size_t max_bytes, std::int64_t now_us) const;

  [[nodiscard]] proto::EventLogStatus status() const;

 private:
  std::size_t capacity_;
  std::deque<proto::Event> events_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;
};

}  // namespace ticksplit::agent
