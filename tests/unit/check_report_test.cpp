// Attribution (controller/check/attribute.cpp), the report (check.cpp, report_text.cpp,
// report_json.cpp) on results built by hand, and the whole check on the fixtures of
// tests/data/history/ (which runs the checkers behind check_one).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "controller/check/attribute.hpp"
#include "controller/check/check.hpp"
#include "controller/check/read.hpp"
#include "controller/check/report.hpp"

using namespace ticksplit::check;
using nlohmann::json;

namespace {

const std::string kData = TICKSPLIT_TEST_DATA "/history/";
constexpr std::int64_t kT0 = 1763750000000000;  // the fixtures' first line
std::int64_t at(double seconds) { return kT0 + std::llround(seconds * 1e6); }

History load(const std::string& name, Model m, bool independent = false) {
  return read_history({kData + name}, {m, independent});
}

Anomaly stale_read(std::size_t op, const History& h) {
  Anomaly a;
  a.type = "nonlinearizable";
  a.ops = {op};
  a.from_us = h.ops[op].call_us;
  a.to_us = h.ops[op].return_us;
  a.detail = "read of 1 cannot be linearized";
  a.data = {{"states", {2}}, {"prefix_ops", 2}};
  return a;
}

// k1 invalid (the stale read, op 3), k2 valid, as check_linearizable would say.
std::vector<KeyResult> fault_fixture_results(const History& h) {
  const auto groups = split_by_key(h);
  REQUIRE(groups.size() == 2);
  KeyResult k1;
  k1.key = "k1";
  k1.verdict = Verdict::invalid;
  k1.op_count = groups[0].size();
  k1.anomalies.push_back(stale_read(3, h));
  KeyResult k2;
  k2.key = "k2";
  k2.op_count = groups[1].size();
  return {k1, k2};
}

std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  return text.substr(text.rfind('\n', end) + 1, end - text.rfind('\n', end));
}

}  // namespace

TEST_CASE("attribute: active faults, faults healed within the window, nodedowns around") {
  History h;
  h.faults.push_back({"f1", 1, "groups", "in_window", 1000, at(1), at(2), json()});
  h.faults.push_back({"f2", 2, "isolate", "below_window", 300, at(4), at(4.3), json()});
  h.faults.push_back({"f3", 3, "isolate", "above_window", 9000, at(8), kNever, json()});  // never ended
  h.node_events.push_back({at(1.5), true, "a@h", "b@h", "net_tick_timeout", ""});
  h.node_events.push_back({at(1.6), false, "a@h", "b@h", "", ""});  // nodeups are not named
  h.node_events.push_back({at(5.5), true, "c@h", "b@h", "connection_closed", ""});

  auto a = attribute(at(1.9), at(2.1), h, 2500);
  REQUIRE(a.faults.size() == 1);
  CHECK(a.faults[0].fault == 0);
  CHECK(a.faults[0].relation == Relation::active);
  CHECK(a.nodedowns == std::vector<std::size_t>{0});

  a = attribute(at(6.0), at(6.1), h, 2500);  // f2 healed 1.7 s before; f1 4 s before
  REQUIRE(a.faults.size() == 1);
  CHECK(a.faults[0].fault == 1);
  CHECK(a.faults[0].relation == Relation::healed_before);
  CHECK(a.nodedowns == std::vector<std::size_t>{2});

  a = attribute(at(6.0), at(6.1), h, std::nullopt);  // no window: only active faults; nodedowns ±2 s
  CHECK(a.faults.empty());
  CHECK(a.nodedowns == std::vector<std::size_t>{2});

  a = attribute(at(20), at(21), h, 2500);
  REQUIRE(a.faults.size() == 1);
  CHECK(a.faults[0].fault == 2);  // still active: no fault_end
  CHECK(relation_name(a.faults[0].relation) == std::string("active"));

  a = attribute(at(2.0), at(2.0), h, std::nullopt);  // touching the end counts as overlapping
  CHECK(a.faults.size() == 1);
}

TEST_CASE("attribute: operations around a fault, info operations included") {
  History h;
  Operation op;
  op.call_us = at(0.5), op.return_us = at(0.9);
  h.ops.push_back(op);  // before
  op.call_us = at(0.9), op.return_us = at(1.0);
  h.ops.push_back(op);  // touching the start
  op.call_us = at(2.4), op.return_us = at(2.6);
  h.ops.push_back(op);  // in the window after the end
  op.call_us = at(0.1), op.return_us = kNever;
  h.ops.push_back(op);  // an info op from before: may take effect any time
  op.call_us = at(3.0), op.return_us = at(3.1);
  h.ops.push_back(op);  // after the window
  const Fault f{"f1", 1, "groups", "in_window", 1000, at(1), at(2), json()};
  CHECK(ops_around(f, h, 500) == 3);
  CHECK(ops_around(f, h, std::nullopt) == 2);
}

TEST_CASE("report: an invalid register history with a fault active and a nodedown (hand-built results)") {
  const auto h = load("register_invalid_with_fault.jsonl", Model::register_);
  REQUIRE(h.ops.size() == 7);
  CHECK(h.ops[3].process == 2);
  const auto r = make_report(h, {Model::register_, {}, std::nullopt}, fault_fixture_results(h));
  CHECK(r.verdict == Verdict::invalid);
  CHECK(r.window_ms == 2500);
  CHECK(r.window_source == WindowSource::run_start);
  REQUIRE(r.faults.size() == 2);
  CHECK(r.faults[0].ops == 3);  // [1.0, 2.957 + 2.5] s: ops 2, 3, 4
  CHECK(r.faults[0].anomalies == 1);
  CHECK(r.faults[1].ops == 2);
  CHECK(r.faults[1].anomalies == 0);

  const auto file = kData + "register_invalid_with_fault.jsonl";
  CHECK(report_text(r, h) ==
        "model register, 1 history file, 7 operations, 2 keys\n"
        "detection window: 2500 ms (run_start)\n"
        "key \"k1\": invalid, 4 operations\n"
        "  first operation that cannot be linearized: process 2 read -> 1, 1.500..1.600 s (" +
            file +
            ":10)\n"
            "    longest linearizable prefix: 2 operations; states reached: 2\n"
            "    faults: fault 1 (groups, in_window, 1957 ms) active; nodedowns: app@198.51.100.12 saw "
            "app@198.51.100.11 down (net_tick_timeout) at 1.400 s\n"
            "key \"k2\": valid, 3 operations\n"
            "per fault:\n"
            "  fault 1 (groups, in_window, 1957 ms) 1.000..2.957 s: 3 operations around it, 1 anomaly (key \"k1\")\n"
            "  fault 2 (groups, below_window, 635 ms) 6.000..6.635 s: 2 operations around it, no anomaly\n"
            "verdict: invalid\n");

  const auto j = report_json(r, h);
  CHECK(j["verdict"] == "invalid");
  CHECK(j["model"] == "register");
  CHECK(j["files"] == json::array({file}));
  CHECK(j["ops"] == 7);
  CHECK(j["window_ms"] == 2500);
  CHECK(j["window_source"] == "run_start");
  CHECK(j["origin_us"] == kT0);
  REQUIRE(j["keys"].size() == 2);
  const auto& k1 = j["keys"][0];
  CHECK(k1["key"] == "k1");
  CHECK(k1["verdict"] == "invalid");
  CHECK(k1["reason"].is_null());
  CHECK(k1["ops"] == 4);
  REQUIRE(k1["anomalies"].size() == 1);
  const auto& a = k1["anomalies"][0];
  CHECK(a["type"] == "nonlinearizable");
  CHECK(a["from_us"] == at(1.5));
  CHECK(a["to_us"] == at(1.6));
  CHECK(a["op"]["process"] == 2);
  CHECK(a["op"]["f"] == "read");
  CHECK(a["op"]["value"].is_null());
  CHECK(a["op"]["result"] == 1);
  CHECK(a["op"]["type"] == "ok");
  CHECK(a["op"]["key"] == "k1");
  CHECK(a["op"]["node"] == "app@198.51.100.11");
  CHECK(a["op"]["call_us"] == at(1.5));
  CHECK(a["op"]["return_us"] == at(1.6));
  CHECK(a["op"]["where"] == file + ":10");
  CHECK(a["concurrent"] == json::array());
  CHECK(a["data"]["prefix_ops"] == 2);
  REQUIRE(a["faults"].size() == 1);
  CHECK(a["faults"][0] == json{{"fault", "1763750000000-1"},
                               {"number", 1},
                               {"shape", "groups"},
                               {"window_class", "in_window"},
                               {"start_us", at(1.0)},
                               {"end_us", at(2.957)},
                               {"relation", "active"}});
  REQUIRE(a["nodedowns"].size() == 1);
  CHECK(a["nodedowns"][0] == json{{"time_us", at(1.4)},
                                  {"observer", "app@198.51.100.12"},
                                  {"peer", "app@198.51.100.11"},
                                  {"reason", "net_tick_timeout"}});
  CHECK(j["keys"][1]["verdict"] == "valid");
  REQUIRE(j["faults"].size() == 2);
  CHECK(j["faults"][0]["requested_ms"] == 1957);
  CHECK(j["faults"][0]["ops"] == 3);
  CHECK(j["faults"][0]["anomalies"] == 1);
  CHECK(j["faults"][0]["anomaly_keys"] == json::array({"k1"}));
  CHECK(j["faults"][1]["window_class"] == "below_window");
  CHECK(j["faults"][1]["anomalies"] == 0);
}

TEST_CASE("report: a fault healed just before the anomaly, inside the detection window") {
  const auto h = load("register_healed_before.jsonl", Model::register_);
  REQUIRE(h.ops.size() == 3);
  KeyResult k;
  k.verdict = Verdict::invalid;
  k.op_count = 3;
  k.anomalies.push_back(stale_read(2, h));
  auto r = make_report(h, {Model::register_, {}, std::nullopt}, {k});
  REQUIRE(r.keys[0].attributions.size() == 1);
  const auto& att = r.keys[0].attributions[0];
  REQUIRE(att.faults.size() == 1);
  CHECK(att.faults[0].fault == 1);  // fault 2, healed 1 s before; fault 1 healed 2.7 s before is outside
  CHECK(att.faults[0].relation == Relation::healed_before);
  CHECK(att.nodedowns == std::vector<std::size_t>{1});
  CHECK(r.faults[0].anomalies == 0);
  CHECK(r.faults[1].anomalies == 1);
  CHECK(r.faults[1].keys.size() == 1);
  const auto text = report_text(r, h);
  CHECK(text.find("model register, 1 history file, 3 operations, no keys\n") == 0);
  CHECK(text.find("history: invalid, 3 operations\n") != std::string::npos);
  CHECK(text.find("    faults: fault 2 (isolate, in_window, 1000 ms) healed 1.000 s before (at 2.000 s); nodedowns: "
                  "app@198.51.100.11 saw app@198.51.100.13 down (net_tick_timeout) at 1.500 s\n") != std::string::npos);
  CHECK(text.find("  fault 2 (isolate, in_window, 1000 ms) 1.000..2.000 s: 2 operations around it, 1 anomaly\n") !=
        std::string::npos);
  CHECK(last_line(text) == "verdict: invalid");
  const auto j = report_json(r, h);
  CHECK(j["keys"][0]["key"].is_null());
  CHECK(j["keys"][0]["anomalies"][0]["faults"][0]["relation"] == "healed_before");
  CHECK(j["keys"][0]["anomalies"][0]["faults"][0]["number"] == 2);

  // --window-ms 3000 reaches fault 1 too; no window at all names neither.
  r = make_report(h, {Model::register_, {}, 3000}, {k});
  CHECK(r.window_source == WindowSource::option);
  CHECK(r.keys[0].attributions[0].faults.size() == 2);
  CHECK(report_text(r, h).find("detection window: 3000 ms (--window-ms)\n") != std::string::npos);
  History bare = h;
  bare.window_max_ms.reset();
  r = make_report(bare, {Model::register_, {}, std::nullopt}, {k});
  CHECK(r.window_source == WindowSource::none);
  CHECK(r.keys[0].attributions[0].faults.empty());
  CHECK(report_text(r, bare).find("detection window: unknown (no run_start, no --window-ms): anomalies name only "
                                  "the faults active during them\n") != std::string::npos);
  CHECK(report_json(r, bare)["window_ms"].is_null());
}

TEST_CASE("report: unknown keys give their reason; long lists are cut; an empty history is unknown") {
  History h;
  h.files = {"x.jsonl"};
  for (int i = 0; i < 3; ++i) {
    Operation op;
    op.id = static_cast<std::size_t>(i);
    op.f = Fn::add;
    op.arg = i;
    op.call_us = i;
    op.return_us = i + 1;
    op.key = i < 2 ? json("a") : json("b");
    op.invoked_at = {"x.jsonl", static_cast<std::size_t>(i + 1)};
    h.ops.push_back(op);
  }
  KeyResult a;
  a.key = "a";
  a.verdict = Verdict::unknown;
  a.reason = "no ok read";
  a.op_count = 2;
  a.stats = {{"attempts", 2}, {"recovered_elements", json::array()}};
  for (int i = 0; i < 25; ++i) a.stats["recovered_elements"].push_back(i);
  KeyResult b;
  b.key = "b";
  b.verdict = Verdict::invalid;
  b.op_count = 1;
  for (int i = 0; i < 12; ++i) {
    Anomaly lost;
    lost.type = "lost";
    lost.ops = {2};
    lost.from_us = 2;
    lost.to_us = 3;
    lost.data = {{"element", i}};
    b.anomalies.push_back(lost);
  }
  const auto r = make_report(h, {Model::set, {}, std::nullopt}, {a, b});
  CHECK(r.verdict == Verdict::invalid);
  const auto text = report_text(r, h);
  CHECK(text.find("key \"a\": unknown (no ok read), 2 operations\n  attempts 2\n  recovered_elements (25): 0, 1, 2, 3, "
                  "4, 5, 6, 7, 8, 9, ... (+15 more)\n") != std::string::npos);
  CHECK(text.find("  lost (12): 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (+2 more)\n") != std::string::npos);
  CHECK(text.find("  ... (+2 more anomalies; --json lists them all)\n") != std::string::npos);
  CHECK(text.find("    operation: process 0 add 2, 0.000002..0.000003 s (x.jsonl:3)\n") !=
        std::string::npos);  // µs shown
  CHECK(last_line(text) == "verdict: invalid");
  CHECK(report_json(r, h)["keys"][1]["anomalies"].size() == 12);
  CHECK(report_json(r, h)["keys"][0]["reason"] == "no ok read");

  const auto only_unknown = make_report(h, {Model::set, {}, std::nullopt}, {a});
  CHECK(only_unknown.verdict == Verdict::unknown);
  CHECK(last_line(report_text(only_unknown, h)) == "verdict: unknown");

  const auto empty = check(History{}, {Model::register_, {}, std::nullopt});
  CHECK(empty.verdict == Verdict::unknown);
  CHECK(report_text(empty, History{}) ==
        "model register, 0 history files, 0 operations, no keys\nthe history has no operations\nverdict: unknown\n");
  CHECK(report_json(empty, History{})["reason"] == "the history has no operations");
}

TEST_CASE("split_by_key: groups in order of first call, ids kept") {
  const auto h = load("register_invalid_with_fault.jsonl", Model::register_);
  const auto groups = split_by_key(h);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].size() == 4);
  CHECK(groups[0][1].id == 2);
  CHECK(groups[1][0].key == json("k2"));
  CHECK(split_by_key(load("register_valid.jsonl", Model::register_)).size() == 1);
}

// The whole check on the fixtures: these run the checkers behind check_one.
TEST_CASE("check: the fixtures end to end") {
  const auto run = [](const std::string& name, Model m, bool independent = false) {
    const auto h = load(name, m, independent);
    return std::pair{h, check(h, {m, {}, std::nullopt})};
  };
  CHECK(run("register_valid.jsonl", Model::register_).second.verdict == Verdict::valid);
  CHECK(run("jepsen_register.edn", Model::cas_register).second.verdict == Verdict::valid);
  CHECK(run("jepsen_records.edn", Model::register_).second.verdict == Verdict::invalid);
  CHECK(run("set.jsonl", Model::set).second.verdict == Verdict::valid);
  CHECK(run("set_unread.jsonl", Model::set).second.verdict == Verdict::unknown);
  CHECK(run("counter.jsonl", Model::counter).second.verdict == Verdict::valid);
  CHECK(run("queue.jsonl", Model::queue).second.verdict == Verdict::valid);

  {
    const auto [h, r] = run("register_invalid_with_fault.jsonl", Model::register_);
    CHECK(r.verdict == Verdict::invalid);
    REQUIRE(r.keys.size() == 2);
    CHECK(r.keys[0].result.verdict == Verdict::invalid);
    CHECK(r.keys[1].result.verdict == Verdict::valid);
    REQUIRE_FALSE(r.keys[0].result.anomalies.empty());
    CHECK(r.keys[0].result.anomalies[0].ops.front() == 3);  // the stale read
    REQUIRE(r.keys[0].attributions[0].faults.size() == 1);
    CHECK(r.keys[0].attributions[0].faults[0].relation == Relation::active);
    CHECK(r.faults[0].anomalies == 1);
    CHECK(last_line(report_text(r, h)) == "verdict: invalid");
  }
  {
    const auto [h, r] = run("register_healed_before.jsonl", Model::register_);
    CHECK(r.verdict == Verdict::invalid);
    REQUIRE(r.keys[0].attributions.size() == 1);
    REQUIRE(r.keys[0].attributions[0].faults.size() == 1);
    CHECK(r.keys[0].attributions[0].faults[0].relation == Relation::healed_before);
  }
  {
    const auto [h, r] = run("jepsen_independent.edn", Model::kv);
    CHECK(r.verdict == Verdict::invalid);
    REQUIRE(r.keys.size() == 2);
    CHECK(r.keys[0].result.key == json(1));
    CHECK(r.keys[0].result.verdict == Verdict::valid);
    CHECK(r.keys[1].result.verdict == Verdict::invalid);
  }
  {
    const auto [h, r] = run("set_lost.jsonl", Model::set);
    CHECK(r.verdict == Verdict::invalid);
    REQUIRE(r.keys[0].result.anomalies.size() == 1);
    CHECK(r.keys[0].result.anomalies[0].type == "lost");
    REQUIRE(r.keys[0].attributions[0].faults.size() == 1);
    CHECK(r.keys[0].attributions[0].faults[0].relation == Relation::active);
    const auto text = report_text(r, h);
    CHECK(text.find("  lost (1): 3\n") != std::string::npos);
    CHECK(text.find("  final read: process 2 read -> [1, 2, 4], 3.000..3.100 s (" + kData + "set_lost.jsonl:13)\n") !=
          std::string::npos);
    CHECK(text.find("    operation: process 1 add 3, 0.300..0.350 s (" + kData + "set_lost.jsonl:7)\n") !=
          std::string::npos);
  }
}
