// Jepsen's set, total-queue and counter checkers (set.cpp, queue.cpp, counter.cpp), one hand-made
// history per rule.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "controller/check/checker.hpp"
#include "tests/unit/check_history_builder.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::HistoryBuilder;
using json = nlohmann::json;

namespace {
std::size_t count(const KeyResult& r, const std::string& type) {
  return static_cast<std::size_t>(
      std::count_if(r.anomalies.begin(), r.anomalies.end(), [&](const Anomaly& a) { return a.type == type; }));
}
}  // namespace

TEST_CASE("set: every acknowledged add is in the final read") {
  auto ops = HistoryBuilder().add(1, 1, 0, 10).add(2, 2, 0, 10).add(3, 3, 20, 30).read(4, json{3, 2, 1}, 40, 50).done();
  const auto r = check_set(ops);
  CHECK(r.verdict == Verdict::valid);
  CHECK(r.anomalies.empty());
  CHECK(r.stats["attempts"] == 3);
  CHECK(r.stats["ok"] == 3);
  CHECK(r.stats["lost"] == 0);
  CHECK(r.op_count == 4);
}

TEST_CASE("set: lost") {
  auto ops = HistoryBuilder().add(1, 1, 0, 10).add(2, 2, 5, 15).read(3, json{1}, 40, 50).done();
  const auto r = check_set(ops);
  CHECK(r.verdict == Verdict::invalid);
  REQUIRE(r.anomalies.size() == 1);
  const Anomaly& a = r.anomalies[0];
  CHECK(a.type == "lost");
  CHECK(a.ops == std::vector<std::size_t>{1});
  CHECK(a.from_us == 5);
  CHECK(a.to_us == 15);
  CHECK(a.data["element"] == 2);
  CHECK(r.stats["lost"] == 1);
}

TEST_CASE("set: unexpected") {
  auto ops = HistoryBuilder().add(1, 1, 0, 10).read(3, json{1, 9, 9}, 40, 50).done();
  const auto r = check_set(ops);
  CHECK(r.verdict == Verdict::invalid);
  REQUIRE(r.anomalies.size() == 1);
  CHECK(r.anomalies[0].type == "unexpected");
  CHECK(r.anomalies[0].ops == std::vector<std::size_t>{1});
  CHECK(r.anomalies[0].from_us == 40);
  CHECK(r.anomalies[0].to_us == 50);
  CHECK(r.anomalies[0].data["element"] == 9);
}

TEST_CASE("set: recovered elements are reported, not invalid") {
  auto ops = HistoryBuilder()
                 .add(1, 1, 0, 10)
                 .add(2, 2, 0, 10, Status::info)
                 .add(3, 3, 0, 10, Status::fail)
                 .add(4, 4, 0, 10, Status::info)
                 .read(5, json{1, 2, 3}, 40, 50)
                 .done();
  const auto r = check_set(ops);
  CHECK(r.verdict == Verdict::valid);
  CHECK(r.stats["recovered"] == 2);
  CHECK(r.stats["recovered_elements"] == json{2, 3});
  CHECK(r.stats["attempts"] == 4);
}

TEST_CASE("set: the last ok read by completion decides") {
  auto later_start = HistoryBuilder()
                         .add(1, 1, 0, 10)
                         .add(2, 2, 0, 10)
                         .read(3, json{1}, 20, 100)
                         .read(4, json{1, 2}, 30, 50)
                         .read(5, json(), 200, 210, Status::fail)
                         .done();
  CHECK(check_set(later_start).verdict == Verdict::invalid);
  auto fine =
      HistoryBuilder().add(1, 1, 0, 10).add(2, 2, 0, 10).read(3, json{1}, 20, 30).read(4, json{1, 2}, 40, 50).done();
  CHECK(check_set(fine).verdict == Verdict::valid);
}

TEST_CASE("set: no ok read is unknown; a read that is not an array is an anomaly") {
  const auto none = check_set(HistoryBuilder().add(1, 1, 0, 10).read(2, json(), 20, 30, Status::info).done());
  CHECK(none.verdict == Verdict::unknown);
  CHECK(none.reason == "no ok read");
  const auto bad = check_set(HistoryBuilder().add(1, 1, 0, 10).read(2, 1, 20, 30).done());
  CHECK(bad.verdict == Verdict::invalid);
  CHECK(count(bad, "malformed") == 1);
}

TEST_CASE("set: elements compare as JSON values") {
  auto ops = HistoryBuilder()
                 .add(1, json{{"k", 1}, {"v", "a"}}, 0, 10)
                 .read(2, json::parse(R"([{"v":"a","k":1}])"), 20, 30)
                 .done();
  CHECK(check_set(ops).verdict == Verdict::valid);
}

TEST_CASE("queue: dequeues and drains account for every enqueue") {
  auto ops = HistoryBuilder()
                 .enqueue(1, 1, 0, 10)
                 .enqueue(2, 2, 0, 10)
                 .enqueue(1, 3, 20, 30)
                 .dequeue(3, 1, 40, 50)
                 .dequeue(3, json(), 60, 70, Status::fail)  // empty
                 .drain(4, json{2, 3}, 80, 90)
                 .done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::valid);
  CHECK(r.anomalies.empty());
  CHECK(r.stats["attempts"] == 3);
  CHECK(r.stats["dequeued"] == 3);
}

TEST_CASE("queue: lost, counting multiplicity") {
  auto ops =
      HistoryBuilder().enqueue(1, 1, 0, 10).enqueue(2, 1, 5, 15).enqueue(1, 2, 20, 30).dequeue(3, 1, 40, 50).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::invalid);
  CHECK(r.stats["lost"] == 2);
  REQUIRE(count(r, "lost") == 2);
  CHECK(r.anomalies[0].ops == std::vector<std::size_t>{0, 1});  // one of the two enqueues of 1
  CHECK(r.anomalies[0].from_us == 0);
  CHECK(r.anomalies[1].ops == std::vector<std::size_t>{2});
}

TEST_CASE("queue: an info dequeue tells nothing") {
  auto ops = HistoryBuilder().enqueue(1, 1, 0, 10).dequeue(2, json(), 20, 30, Status::info).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::invalid);
  CHECK(count(r, "lost") == 1);
}

TEST_CASE("queue: unexpected") {
  auto ops = HistoryBuilder().enqueue(1, 1, 0, 10).dequeue(2, 1, 20, 30).dequeue(2, 9, 40, 50).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::invalid);
  REQUIRE(count(r, "unexpected") == 1);
  CHECK(r.anomalies[0].ops == std::vector<std::size_t>{2});
  CHECK(r.anomalies[0].from_us == 40);
}

TEST_CASE("queue: duplicated is reported but does not make the history invalid") {
  auto ops = HistoryBuilder().enqueue(1, 1, 0, 10).dequeue(2, 1, 20, 30).drain(3, json{1}, 40, 50).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::valid);
  REQUIRE(count(r, "duplicated") == 1);
  CHECK(r.anomalies[0].ops == std::vector<std::size_t>{1, 2});
  CHECK(r.anomalies[0].from_us == 20);
  CHECK(r.anomalies[0].to_us == 50);
  CHECK(r.stats["duplicated"] == 1);
}

TEST_CASE("queue: recovered") {
  auto ops = HistoryBuilder()
                 .enqueue(1, 1, 0, 10, Status::info)
                 .enqueue(1, 2, 20, 30, Status::fail)
                 .drain(2, json{1, 2}, 40, 50)
                 .done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::valid);
  CHECK(r.stats["recovered"] == 2);
}

TEST_CASE("queue: an info drain leaves the verdict unknown unless something unexpected came out") {
  auto ops = HistoryBuilder().enqueue(1, 1, 0, 10).enqueue(1, 2, 20, 30).drain(2, json(), 40, 50, Status::info).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::unknown);
  CHECK(r.reason.find("indeterminate") != std::string::npos);
  CHECK(r.stats["unconfirmed_lost"] == 2);
  CHECK(count(r, "lost") == 0);
  auto bad = HistoryBuilder().enqueue(1, 1, 0, 10).dequeue(3, 7, 20, 30).drain(2, json(), 40, 50, Status::info).done();
  CHECK(check_queue(bad).verdict == Verdict::invalid);
}

TEST_CASE("queue: a drain that is not an array is an anomaly, not a crash") {
  auto ops = HistoryBuilder().enqueue(1, 1, 0, 10).drain(2, 1, 20, 30).done();
  const auto r = check_queue(ops);
  CHECK(r.verdict == Verdict::invalid);
  CHECK(count(r, "malformed") == 1);
}

TEST_CASE("counter: reads between the completed and the attempted adds") {
  auto seq = HistoryBuilder().add(1, 1, 0, 10).read(2, 1, 20, 30).done();
  CHECK(check_counter(seq).verdict == Verdict::valid);
  auto low = HistoryBuilder().add(1, 1, 0, 10).read(2, 0, 20, 30).done();
  const auto r = check_counter(low);
  CHECK(r.verdict == Verdict::invalid);
  REQUIRE(r.anomalies.size() == 1);
  const Anomaly& a = r.anomalies[0];
  CHECK(a.type == "read_out_of_range");
  CHECK(a.ops == std::vector<std::size_t>{1});
  CHECK(a.from_us == 20);
  CHECK(a.to_us == 30);
  CHECK(a.data == json{{"value", 0}, {"lower", 1}, {"upper", 1}});
}

TEST_CASE("counter: concurrent adds widen the range") {
  for (int v = 0; v <= 4; ++v) {
    auto ops = HistoryBuilder().add(1, 1, 0, 100).add(2, 2, 0, 100).read(3, v, 10, 20).done();
    const auto r = check_counter(ops);
    CHECK(r.verdict == (v <= 3 ? Verdict::valid : Verdict::invalid));
    if (v == 4) {
      REQUIRE(r.anomalies.size() == 1);
      CHECK(r.anomalies[0].ops == std::vector<std::size_t>{2, 0, 1});
    }
  }
}

TEST_CASE("counter: info adds may count, failed adds do not") {
  CHECK(check_counter(HistoryBuilder().add(1, 5, 0, 0, Status::info).read(2, 5, 10, 20).done()).verdict ==
        Verdict::valid);
  CHECK(check_counter(HistoryBuilder().add(1, 5, 0, 0, Status::info).read(2, 0, 10, 20).done()).verdict ==
        Verdict::valid);
  CHECK(check_counter(HistoryBuilder().add(1, 5, 0, 0, Status::info).read(2, 6, 10, 20).done()).verdict ==
        Verdict::invalid);
  CHECK(check_counter(HistoryBuilder().add(1, 5, 0, 10, Status::fail).read(2, 5, 20, 30).done()).verdict ==
        Verdict::invalid);
}

TEST_CASE("counter: equal times are concurrent") {
  CHECK(check_counter(HistoryBuilder().add(1, 1, 0, 10).read(2, 0, 10, 20).done()).verdict == Verdict::valid);
  CHECK(check_counter(HistoryBuilder().read(2, 1, 10, 20).add(1, 1, 20, 30).done()).verdict == Verdict::valid);
  CHECK(check_counter(HistoryBuilder().read(2, 1, 10, 20).add(1, 1, 21, 30).done()).verdict == Verdict::invalid);
}

// The reader refuses these with their line (check_pair_test.cpp); histories built otherwise
// still never crash the checker.
TEST_CASE("counter: negative or non-integer values are malformed, never a crash") {
  auto neg = HistoryBuilder().add(1, 1, 0, 10).add(1, -3, 20, 30).read(2, 1, 40, 50).done();
  const auto r = check_counter(neg);
  CHECK(r.verdict == Verdict::invalid);
  CHECK(count(r, "malformed") == 1);
  CHECK(check_counter(HistoryBuilder().read(1, json::array(), 0, 10).done()).verdict == Verdict::invalid);
}

TEST_CASE("counter: sums saturate instead of overflowing") {
  const auto big = json(std::numeric_limits<std::int64_t>::max());
  auto ops = HistoryBuilder().add(1, big, 0, 10).add(2, big, 0, 10).read(3, big, 20, 30).done();
  CHECK(check_counter(ops).verdict == Verdict::valid);
}

TEST_CASE("check_one dispatches set, queue and counter") {
  const Budget b;
  CHECK(check_one(Model::set, HistoryBuilder().add(1, 1, 0, 10).done(), b).reason == "no ok read");
  CHECK(check_one(Model::queue, HistoryBuilder().enqueue(1, 1, 0, 10).done(), b).verdict == Verdict::invalid);
  CHECK(check_one(Model::counter, HistoryBuilder().read(1, 0, 0, 10).done(), b).verdict == Verdict::valid);
}
