// The report on recorded histories (tests/data/report/: the demo's run and its clients'
// operations; a one-way fault on the 5-host cluster with global's cascades, a node's warning and
// a hidden node; that history cut short by a crash), on one generated at the documented scale,
// and the EDN export read back with an EDN reader. Expected counts come from the input lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <fstream>
#include <set>
#include <sstream>

#include "controller/check/check.hpp"
#include "controller/check/edn.hpp"
#include "controller/check/read.hpp"
#include "controller/report/anomalies.hpp"
#include "controller/report/edn.hpp"
#include "controller/report/history_lines.hpp"
#include "controller/report/html.hpp"
#include "controller/report/model.hpp"
#include "controller/report/summary.hpp"

using namespace ticksplit;
using namespace ticksplit::ctl;
using nlohmann::json;

namespace {

std::string data(const std::string& name) { return std::string(TICKSPLIT_TEST_DATA) + "/report/" + name; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::size_t lines_of(const HistoryLines& h, const std::string& kind) {
  return static_cast<std::size_t>(std::count_if(h.lines.begin(), h.lines.end(), [&](const json& l) { return l["kind"] == kind; }));
}

}  // namespace

TEST_CASE("report model: the demo's run and its clients' operations") {
  const auto h = read_history_lines({data("demo_run.jsonl"), data("demo_ops.jsonl")});
  CHECK(h.problems.empty());
  const auto m = build_model(h);
  CHECK(m.lanes == std::vector<std::string>{"app@198.51.100.11", "app@198.51.100.12", "app@198.51.100.13"});
  REQUIRE(m.faults.size() == lines_of(h, "fault_start"));
  REQUIRE(m.window.has_value());
  CHECK(m.window->min_ms == 1500);
  std::size_t detection = 0, drop = 0;
  for (const auto& b : m.bands) {
    const auto& f = m.faults.at(b.fault);
    if (b.kind == ReportModel::Band::Kind::detection) {
      ++detection;
      CHECK(b.from_us == f.start_us + 1'500'000);
      CHECK(b.to_us == f.start_us + 2'500'000);
      CHECK(b.lane.empty());
    } else if (b.kind == ReportModel::Band::Kind::drop) {
      ++drop;
      CHECK(b.from_us == f.start_us);
      CHECK(b.to_us == f.start_us + f.fault.duration_ms * 1000);
    }
  }
  CHECK(detection == m.faults.size());
  CHECK(drop == 3 * m.faults.size());  // [11] against [12, 13]: every node is cut
  const auto node_marks = std::count_if(m.marks.begin(), m.marks.end(), [](const auto& k) { return k.kind != "log"; });
  CHECK(static_cast<std::size_t>(node_marks) == lines_of(h, "nodeup") + lines_of(h, "nodedown"));
  // Every invoke is one operation, completed or not.
  std::size_t invokes = 0;
  std::set<std::int64_t> processes;
  for (const auto& l : h.lines)
    if (l["kind"] == "op") {
      invokes += l["type"] == "invoke" ? 1 : 0;
      processes.insert(l["process"].get<std::int64_t>());
    }
  CHECK(m.ops.size() == invokes);
  CHECK(m.processes.size() == processes.size());
  for (const auto& op : m.ops) CHECK(op.from_us <= op.to_us);

  const auto html = report_html(m, "demo");
  CHECK(count(html, "<g class=\"fault\"") == m.faults.size());
  CHECK(count(html, "class=\"summary-row\"") == m.faults.size());
  CHECK(count(html, "<g class=\"op-lane\"") == m.processes.size());
  CHECK(count(html, "class=\"mark node-event") == static_cast<std::size_t>(node_marks));
  CHECK(count(html, "<rect class=\"op ") == m.ops.size());  // drawn one by one at this size
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // nothing fetched: only the SVG namespace
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("report model: cascades, a hidden node and a log line are told apart") {
  const auto h = read_history_lines({data("one_way_cascades.jsonl")});
  const auto m = build_model(h);
  REQUIRE(m.faults.size() == 1);
  const auto& f = m.faults[0];
  CHECK(f.fault.topology.one_way.size() == 1);
  std::size_t cascades = 0, hidden = 0;
  for (const auto& d : f.nodedowns) {
    cascades += d.cascade ? 1 : 0;
    hidden += d.hidden ? 1 : 0;
    CHECK_FALSE((d.cascade && d.hidden));
  }
  CHECK(cascades > 0);  // global cut the other links of the node (prevent_overlapping_partitions)
  CHECK(hidden > 0);    // the escript that made app 1 log
  const auto cascade_marks = std::count_if(m.marks.begin(), m.marks.end(), [](const auto& k) {
    return k.css.find("cascade") != std::string::npos;
  });
  CHECK(static_cast<std::size_t>(cascade_marks) == cascades);
  const auto logs = std::count_if(m.marks.begin(), m.marks.end(), [](const auto& k) { return k.kind == "log"; });
  CHECK(static_cast<std::size_t>(logs) == lines_of(h, "log"));
  CHECK(logs > 0);
  // The node's own words for the cascades: global disconnecting to prevent overlapping partitions.
  std::size_t from_global = 0;
  for (const auto& k : m.marks)
    if (k.kind == "log") {
      CHECK((k.css == "level-warning" || k.css == "level-error"));
      from_global += k.title.find("in order to prevent overlapping partitions") != std::string::npos ? 1 : 0;
    }
  CHECK(from_global > 0);
  // The cut link went down (the run ended before it reconnected: the history is followed to its
  // last line); the outage outlasted the window.
  const auto links = link_reports(f);
  const auto cut = std::find_if(links.begin(), links.end(), [](const auto& l) { return l.cut; });
  REQUIRE(cut != links.end());
  REQUIRE(cut->first_down.has_value());
  CHECK_FALSE(cut->up_after_heal_us.has_value());
  CHECK(f.followed_until_us == m.to_us);
  REQUIRE(f.effective_outage_us > f.fault.duration_ms * 1000);
  CHECK(std::count_if(m.bands.begin(), m.bands.end(), [](const auto& b) { return b.kind == ReportModel::Band::Kind::outage; }) ==
        2);  // beyond the drop window, on both nodes of the one-way link
  for (const auto& k : m.marks)
    if (k.kind == "nodedown") CHECK(k.css.find(k.title.find("(net_tick_timeout)") != std::string::npos ? "net_tick_timeout" : "") != std::string::npos);
  // Hidden nodes get no lane of their own.
  for (const auto& lane : m.lanes) CHECK(lane.rfind("app@", 0) == 0);
}

TEST_CASE("report model: a history cut short by a crash is read as the prefix it is") {
  const auto h = read_history_lines({data("cut_short.jsonl")});
  REQUIRE(h.problems.size() == 1);
  CHECK(h.problems[0].find("cut short") != std::string::npos);
  const auto m = build_model(h);
  REQUIRE(m.faults.size() == 1);
  CHECK(lines_of(h, "fault_end") == 0);
  CHECK(std::any_of(m.notes.begin(), m.notes.end(), [](const auto& n) { return n.find("no fault_end") != std::string::npos; }));
  const auto& f = m.faults[0];
  CHECK(f.end_us == f.start_us + f.fault.duration_ms * 1000);  // drawn to its planned end
  CHECK(report_html(m, "cut").find("no fault_end") != std::string::npos);
  // A malformed line before the last is not a crash: refused.
  CHECK_THROWS_AS(parse_history_lines("{\"kind\":\"note\",\"time_us\":1}\n{oops\n{\"kind\":\"note\",\"time_us\":2}\n", "x"),
                  ConfigError);
}

TEST_CASE("report: 100 faults, 7 nodes, 20 clients, 100k operations, 50k log lines stay under the documented size") {
  HistoryLines h;
  const std::int64_t t0 = 1'700'000'000'000'000;
  std::vector<std::string> nodes;
  for (int i = 1; i <= 7; ++i) nodes.push_back("n" + std::to_string(i) + "@198.51.100." + std::to_string(10 + i));
  h.lines.push_back({{"kind", "run_start"}, {"time_us", t0}, {"nodes", nodes}, {"net_ticktime_ms", 2000}, {"tick_intensity", 4}});
  for (int k = 0; k < 100; ++k) {
    const std::int64_t s = t0 + 1'000'000 + k * 5'000'000;
    h.lines.push_back({{"kind", "fault_start"}, {"time_us", s}, {"fault", "f" + std::to_string(k)}, {"number", k + 1},
                       {"shape", "isolate"}, {"requested_ms", 3000}, {"window_class", "above_window"},
                       {"drop_sets", {{nodes[0], std::vector<std::string>(nodes.begin() + 1, nodes.end())}}}});
    for (int i = 1; i < 7; ++i)
      h.lines.push_back({{"kind", "nodedown"}, {"time_us", s + 2'000'000 + i}, {"observer", nodes[static_cast<std::size_t>(i)]},
                         {"peer", nodes[0]}, {"reason", "net_tick_timeout"}, {"node_type", "visible"}});
    h.lines.push_back({{"kind", "fault_end"}, {"time_us", s + 3'000'000}, {"fault", "f" + std::to_string(k)},
                       {"dropped_packets", 10}, {"effective_outage_us", 3'200'000}});
  }
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t t = t0 + i * 5000;
    const json base{{"kind", "op"}, {"process", i % 20}, {"f", "write"}, {"value", i}};
    json inv = base, ok = base;
    inv["type"] = "invoke";
    inv["time_us"] = t;
    ok["type"] = i % 97 == 0 ? "info" : "ok";
    ok["time_us"] = t + 1000 + (i % 7) * 300;
    h.lines.push_back(inv);
    h.lines.push_back(ok);
  }
  for (int i = 0; i < 50'000; ++i)  // a chatty cluster: 50 lines a second on every node, 1 KB each
    h.lines.push_back({{"kind", "log"}, {"time_us", t0 + i * 10'000}, {"node", nodes[static_cast<std::size_t>(i % 7)]},
                       {"level", "warning"}, {"message", std::string(1000, 'x')}});
  std::stable_sort(h.lines.begin(), h.lines.end(), [](const json& a, const json& b) {
    return a["time_us"].get<std::int64_t>() < b["time_us"].get<std::int64_t>();
  });
  const auto m = build_model(h);
  CHECK(m.ops.size() == 100'000);
  const auto html = report_html(m, "scale");
  MESSAGE("report of 100 faults, 7 nodes, 20 clients, 100k operations, 50k log lines: " << html.size() << " bytes");
  CHECK(html.size() < max_report_bytes);
  CHECK(count(html, "<g class=\"fault\"") == 100);
  CHECK(count(html, "<rect class=\"op agg") > 0);  // aggregated, not 100k rects
  CHECK(count(html, "<rect class=\"op agg") <= 20 * report_buckets);
  CHECK(count(html, "<rect class=\"mark agg log\"") <= 7 * report_buckets);  // the log lines bucketed too
  CHECK(count(html, "<circle class=\"mark log") == 0);
}

TEST_CASE("EDN export: Jepsen's shape, read back by an EDN reader") {
  const auto h = read_history_lines({data("demo_run.jsonl"), data("demo_ops.jsonl")});
  const auto text = history_edn(h);
  // Each line is one op map whose first keys are Jepsen's, with keywords where Jepsen has them
  // (the reader below turns keywords into strings, so they are checked on the text first).
  const std::regex op_line(R"(\{:index \d+, :time \d+, :type :(invoke|ok|fail|info), :process (:nemesis|\d+), :f :[a-z-]+, :value .*\})");
  std::istringstream lines(text);
  std::vector<std::string> raw;
  for (std::string line; std::getline(lines, line);) {
    CHECK_MESSAGE(std::regex_match(line, op_line), line);
    raw.push_back(line);
  }
  // A nemesis op is an invoke and a completion: two consecutive lines alike but for :index.
  const auto without_index = [](const std::string& l) { return l.substr(l.find(", :time")); };
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (raw[i].find(":process :nemesis") != std::string::npos) {
      REQUIRE(i + 1 < raw.size());
      CHECK(without_index(raw[i]) == without_index(raw[i + 1]));
      ++i;
    }
  const auto forms = check::edn::read_top_level(text, "demo.edn");
  REQUIRE(forms.size() == raw.size());
  // :time counts from the first line of the merged histories, in ns
  const auto first_out = std::find_if(h.lines.begin(), h.lines.end(), [](const json& l) { return l["kind"] != "run_start"; });
  REQUIRE(first_out != h.lines.end());
  CHECK(forms.front().value.at("time") ==
        ((*first_out)["time_us"].get<std::int64_t>() - h.lines.front()["time_us"].get<std::int64_t>()) * 1000);
  std::size_t starts = 0, stops = 0, client = 0;
  std::int64_t last_time = -1;
  for (std::size_t i = 0; i < forms.size(); ++i) {
    const auto& op = forms[i].value;
    REQUIRE(op.is_object());
    CHECK(op.at("index") == i);  // dense, from 0
    const auto t = op.at("time").get<std::int64_t>();
    CHECK(t >= last_time);
    last_time = t;
    if (op.at("process") == "nemesis") {
      CHECK(op.at("type") == "info");
      starts += op.at("f") == "start-partition" ? 1 : 0;
      stops += op.at("f") == "stop-partition" ? 1 : 0;
    } else {
      ++client;
      CHECK(op.at("process").is_number_integer());
    }
  }
  CHECK(starts == 2 * lines_of(h, "fault_start"));  // an :info invoke and an :info completion each
  CHECK(stops == 2 * lines_of(h, "fault_end"));
  CHECK(client == lines_of(h, "op"));
  CHECK(last_time > 0);
}

TEST_CASE("report: the anomalies ticksplit-ctl check finds, on their operations' lanes, with the faults they name") {
  const std::vector<std::string> files{data("demo_run.jsonl"), data("demo_ops.jsonl")};
  auto m = build_model(read_history_lines(files));
  const auto ops = check::read_history(files, {check::Model::register_, false});
  check::CheckOptions o;
  const auto r = check::check(ops, o);
  REQUIRE(r.verdict == check::Verdict::invalid);  // the demo's register loses writes across the partitions
  std::size_t anomalies = 0;
  for (const auto& k : r.keys) anomalies += k.result.anomalies.size();
  add_anomalies(m, r, ops);
  REQUIRE(m.anomalies.size() == anomalies);
  std::set<int> named;
  for (const auto& a : m.anomalies) {
    CHECK(std::find(m.processes.begin(), m.processes.end(), a.process) != m.processes.end());
    CHECK_FALSE(a.faults.empty());  // each lies within a fault or its detection window after
    for (int f : a.faults) {
      CHECK(a.title.find("fault " + std::to_string(f)) != std::string::npos);
      named.insert(f);
    }
  }
  const auto html = report_html(m, "demo");
  CHECK(count(html, "<rect class=\"anomaly\"") == anomalies);
  CHECK(count(html, "<g class=\"fault named\"") == named.size());
}

TEST_CASE("report: a lossy fault shows its loss and the rate the kernel made; a hostile count cannot overflow it") {
  const auto h = parse_history_lines(
      "{\"kind\":\"run_start\",\"time_us\":0,\"nodes\":[\"a@h1\",\"b@h2\"],\"net_ticktime_ms\":2000}\n"
      "{\"kind\":\"fault_start\",\"time_us\":1000,\"fault\":\"f\",\"number\":1,\"shape\":\"isolate\","
      "\"requested_ms\":2000,\"requested\":\"2s\",\"window_class\":\"in_window\",\"loss\":0.5,"
      "\"drop_sets\":{\"a@h1\":[\"b@h2\"]}}\n"
      "{\"kind\":\"fault_end\",\"time_us\":2001000,\"fault\":\"f\",\"dropped_packets\":487,"
      "\"passed_packets\":513,\"effective_outage_us\":null}\n",
      "lossy");
  const auto m = build_model(h);
  REQUIRE(m.faults.size() == 1);
  CHECK(m.faults[0].fault.loss == proto::Loss{500'000});
  const auto html = report_html(m, "lossy");
  CHECK(html.find("<td>50% (48.7% seen)</td>") != std::string::npos);
  CHECK(html.find("loss 50% (48.7% seen)") != std::string::npos);  // on the drop window's title

  const auto hostile = build_model(parse_history_lines(
      "{\"kind\":\"fault_start\",\"time_us\":1000,\"fault\":\"f\",\"number\":1,\"shape\":\"isolate\","
      "\"requested_ms\":2000,\"loss\":7,\"drop_sets\":{}}\n"
      "{\"kind\":\"fault_end\",\"time_us\":2001000,\"fault\":\"f\",\"dropped_packets\":9223372036854775807,"
      "\"passed_packets\":9223372036854775807}\n",
      "hostile"));
  CHECK(hostile.faults.at(0).fault.loss.total());  // not a probability: read as total
  CHECK(*hostile.faults.at(0).loss_rate() == 0.5);
}

TEST_CASE("report: hostile histories are refused or drawn safely") {
  // A type that is not ok/fail/info cannot reach the markup: it is drawn as info, and every
  // text is escaped.
  const auto h = parse_history_lines(
      "{\"kind\":\"op\",\"process\":1,\"type\":\"invoke\",\"f\":\"<b>\",\"time_us\":1}\n"
      "{\"kind\":\"op\",\"process\":1,\"type\":\"ok\\\"><script>x</script>\",\"time_us\":2}\n"
      "{\"kind\":\"nodedown\",\"observer\":\"a\\\"><script>\",\"peer\":\"b\",\"time_us\":3}\n",
      "evil");
  const auto html = report_html(build_model(h), "<evil>");
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("class=\"op info\"") != std::string::npos);
  // Nesting past check's bound, a time past 2096: refused (a last line: left out and said).
  std::string deep = "{\"kind\":\"op\",\"time_us\":1,\"value\":" + std::string(100'000, '[') + "}";
  CHECK(parse_history_lines(deep, "deep").problems.size() == 1);
  CHECK_THROWS_AS(parse_history_lines(deep + "\n{\"kind\":\"note\",\"time_us\":2}\n", "deep"), ConfigError);
  CHECK(parse_history_lines("{\"kind\":\"note\",\"time_us\":9000000000000000000}\n", "far").problems.size() == 1);
  // A span of days draws a bounded axis.
  const auto far = parse_history_lines(
      "{\"kind\":\"note\",\"time_us\":0}\n{\"kind\":\"note\",\"time_us\":3999999999999999}\n", "span");
  CHECK(count(report_html(build_model(far), "span"), "class=\"tick\"") <= 13);
}
