#include "agent/event_log.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/ei/encode.hpp"

namespace ticksplit::agent {

const proto::Event& EventLog::append(proto::Event e) {
  e.seq = next_seq_++;
  if (e.time_us == 0) e.time_us = clock::unix_us();
  if (events_.size() == capacity_) {
    events_.pop_front();
    ++dropped_;
  }
  events_.push_back(std::move(e));
  return events_.back();
}

namespace {
std::size_t encoded_size(const proto::Event& e) {
  auto x = ei::encode(proto::to_term(e));
  return x ? x->size() : 0;
}
}  // namespace

EventLog::Page EventLog::since(std::uint64_t since, std::size_t limit, std::size_t max_bytes,
                               std::int64_t now_us) const {
  Page p{{}, next_seq_};
  if (since == 0) since = 1;
  const std::uint64_t first = events_.empty() ? next_seq_ : events_.front().seq;
  if (since < first) {
    p.events.push_back(proto::Event{since, "log_gap", now_us, {{"lost", static_cast<std::int64_t>(first - since)}}});
    since = first;
  }
  std::size_t bytes = p.events.empty() ? 0 : encoded_size(p.events.front());
  std::uint64_t seq = since;
  for (; seq < next_seq_ && p.events.size() < limit; ++seq) {
    const auto& e = events_[seq - first];
    bytes += encoded_size(e);
    if (bytes > max_bytes && !p.events.empty()) break;  // one event always goes, however large
    p.events.push_back(e);
  }
  p.next_seq = std::min(seq, next_seq_);
  return p;
}

proto::EventLogStatus EventLog::status() const { return {next_seq_, events_.size(), capacity_, dropped_}; }

}  // namespace ticksplit::agent
