#include <doctest/doctest.h>

#include "agent/event_log.hpp"

using ticksplit::agent::EventLog;
using ticksplit::proto::Event;

namespace {
Event ev(const char* type) { return Event{0, type, 100, {}}; }
constexpr std::size_t kAll = std::size_t{1} << 30;
}  // namespace

TEST_CASE("sequence numbers start at 1 and have no holes") {
  EventLog log(10);
  CHECK(log.append(ev("a")).seq == 1);
  CHECK(log.append(ev("b")).seq == 2);
  auto page = log.since(0, 100, kAll, 0);
  REQUIRE(page.events.size() == 2);
  CHECK(page.events[0].type == "a");
  CHECK(page.next_seq == 3);
  CHECK(log.since(2, 100, kAll, 0).events.size() == 1);
  CHECK(log.since(3, 100, kAll, 0).events.empty());
  CHECK(log.since(3, 100, kAll, 0).next_seq == 3);
  CHECK(log.since(99, 100, kAll, 0).next_seq == 3);
}

TEST_CASE("a full log evicts the oldest and reports the gap") {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) log.append(ev("e"));
  const auto st = log.status();
  CHECK(st.held == 3);
  CHECK(st.dropped == 2);
  CHECK(st.next_seq == 6);
  auto page = log.since(1, 100, kAll, 777);
  REQUIRE(page.events.size() == 4);
  CHECK(page.events[0].type == "log_gap");
  CHECK(page.events[0].seq == 1);
  CHECK(*page.events[0].field("lost") == ticksplit::ei::Term(2));
  CHECK(page.events[1].seq == 3);
  CHECK(page.next_seq == 6);
  CHECK(log.since(3, 100, kAll, 0).events.front().type == "e");  // no gap from seq 3 on
}

TEST_CASE("pages are bounded and continue where they stopped") {
  EventLog log(100);
  for (int i = 0; i < 10; ++i) log.append(ev("e"));
  auto first = log.since(1, 4, kAll, 0);
  CHECK(first.events.size() == 4);
  CHECK(first.next_seq == 5);
  auto second = log.since(first.next_seq, 4, kAll, 0);
  CHECK(second.events.front().seq == 5);
}

TEST_CASE("time is stamped on append when the event has none") {
  EventLog log(2);
  CHECK(log.append(Event{0, "x", 0, {}}).time_us > 1'600'000'000'000'000);
  CHECK(log.append(Event{0, "x", 42, {}}).time_us == 42);
}

TEST_CASE("a page stays within its byte budget, keeps at least one event, and continues after it") {
  EventLog log(100);
  const auto big = [](std::size_t n) { return Event{0, "big", 100, {{"blob", ticksplit::ei::binary(std::string(n, 'x'))}}}; };
  log.append(big(400));
  log.append(big(400));
  log.append(big(400));
  log.append(big(5000));
  auto p = log.since(1, 100, 1000, 0);  // two of ~450 bytes fit, the third would not
  CHECK(p.events.size() == 2);
  CHECK(p.next_seq == 3);
  auto q = log.since(4, 100, 1000, 0);  // alone above the budget: it still goes, alone
  REQUIRE(q.events.size() == 1);
  CHECK(q.events[0].seq == 4);
  CHECK(q.next_seq == 5);
}
