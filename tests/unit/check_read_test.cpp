// Reading ticksplit's JSON Lines histories (controller/check/read_jsonl.cpp) and merging files
// (controller/check/read.cpp): every kind of line, errors naming FILE:LINE, ties across files.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "controller/check/read.hpp"
#include "check_parse_error.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::error_of;
using nlohmann::json;

namespace {

Events jsonl(const std::string& text, const std::string& file = "t.jsonl") {
  std::istringstream in(text);
  return read_jsonl(in, file);
}

std::string jsonl_error(const std::string& text) {
  return error_of([&] { (void)jsonl(text); });
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

const std::string kData = TICKSPLIT_TEST_DATA "/history/";

}  // namespace

TEST_CASE("jsonl: every kind of line is read; blank lines and unknown kinds are skipped") {
  const auto e = jsonl(
      R"({"time_us":100,"kind":"run_start","seed":1,"window_ms":[1500,2500]})"
      "\n\n   \n"
      R"({"time_us":200,"kind":"fault_start","fault":"r-1","number":1,"shape":"groups","window_class":"in_window","requested_ms":1957,"drop_sets":{"a@h":["b@h"]}})"
      "\n"
      R"({"time_us":250,"kind":"op","type":"invoke","process":3,"f":"write","value":7,"key":"k1","node":"a@h"})"
      "\n"
      R"({"time_us":260,"kind":"op","type":"ok","process":3,"f":"write","value":7,"key":"k1"})"
      "\n"
      R"({"time_us":270,"kind":"op","type":"info","process":4,"f":"cas","value":[1,2],"key":null})"
      "\n"
      R"({"time_us":300,"kind":"nodedown","observer":"a@h","peer":"b@h","reason":"net_tick_timeout","node_type":"visible"})"
      "\n"
      R"({"time_us":400,"kind":"nodeup","observer":"a@h","peer":"b@h"})"
      "\n"
      R"({"time_us":450,"kind":"note","text":"hello"})"
      "\n"
      R"({"time_us":500,"kind":"fault_end","fault":"r-1","dropped_packets":3})"
      "\n"
      R"({"time_us":600,"kind":"something_new","x":1})"
      "\n"
      R"({"time_us":700,"kind":"run_end"})");
  REQUIRE(e.ops.size() == 3);
  CHECK(e.ops[0].invoke);
  CHECK(e.ops[0].process == 3);
  CHECK(e.ops[0].f == Fn::write);
  CHECK(e.ops[0].value == 7);
  CHECK(e.ops[0].key == json("k1"));
  CHECK(e.ops[0].node == "a@h");
  CHECK(e.ops[0].time_us == 250);
  CHECK(e.ops[0].at.str() == "t.jsonl:5");
  CHECK_FALSE(e.ops[1].invoke);
  CHECK(e.ops[1].status == Status::ok);
  CHECK(e.ops[2].status == Status::info);
  CHECK_FALSE(e.ops[2].key);  // "key": null is no key
  CHECK(e.ops[2].value == json::array({1, 2}));
  CHECK(e.window_max_ms == 2500);
  CHECK(e.first_us == 100);
  REQUIRE(e.faults.size() == 1);
  const auto& f = e.faults[0];
  CHECK(f.id == "r-1");
  CHECK(f.number == 1);
  CHECK(f.shape == "groups");
  CHECK(f.window_class == "in_window");
  CHECK(f.requested_ms == 1957);
  CHECK(f.start_us == 200);
  CHECK(f.end_us == kNever);  // matched by merge()
  CHECK(f.drop_sets["a@h"][0] == "b@h");
  REQUIRE(e.fault_ends.size() == 1);
  CHECK(e.fault_ends[0] == std::pair<std::string, std::int64_t>{"r-1", 500});
  REQUIRE(e.node_events.size() == 2);
  CHECK(e.node_events[0].down);
  CHECK(e.node_events[0].observer == "a@h");
  CHECK(e.node_events[0].peer == "b@h");
  CHECK(e.node_events[0].reason == "net_tick_timeout");
  CHECK(e.node_events[0].node_type == "visible");
  CHECK_FALSE(e.node_events[1].down);
  REQUIRE(e.notes.size() == 1);
  CHECK(e.notes[0].text == "hello");
  CHECK(e.notes[0].at.line == 10);
}

TEST_CASE("jsonl: errors name the file and the line") {
  const std::string ok = R"({"time_us":1,"kind":"op","type":"invoke","process":0,"f":"read","value":null})"
                         "\n";
  CHECK(starts_with(jsonl_error(ok + "\n{not json\n"), "t.jsonl:3: not JSON: "));
  CHECK(jsonl_error(ok + R"({"kind":"op","type":"invoke","process":1,"f":"read"})") ==
        "t.jsonl:2: missing or non-integer `time_us`");
  CHECK(jsonl_error(ok + R"({"time_us":"5","kind":"note"})") == "t.jsonl:2: missing or non-integer `time_us`");
  CHECK(jsonl_error(ok + R"({"time_us":5.5,"kind":"note"})") == "t.jsonl:2: missing or non-integer `time_us`");
  CHECK(jsonl_error(R"({"time_us":5})") == "t.jsonl:1: missing `kind`");
  CHECK(jsonl_error("[1,2]") == "t.jsonl:1: a history line must be a JSON object");
  CHECK(jsonl_error(ok + ok + R"({"time_us":5,"kind":"op","type":"done","process":1,"f":"read"})") ==
        "t.jsonl:3: `type` must be invoke, ok, fail or info, not \"done\"");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"op","type":"invoke","process":"p1","f":"read"})") ==
        "t.jsonl:1: `process` must be an integer, not \"p1\"");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"op","type":"invoke","f":"read"})") ==
        "t.jsonl:1: `process` must be an integer, not missing");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"op","type":"invoke","process":1,"f":"incr"})") ==
        "t.jsonl:1: `f` must be one of read, write, cas, append, add, enqueue, dequeue, drain, not \"incr\"");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"run_start","window_ms":1500})") ==
        "t.jsonl:1: `window_ms` must be [min, max] in milliseconds, max at most 86400000");
  // a window that would overflow the attribution's arithmetic (1e300 used to become INT64_MIN)
  CHECK(jsonl_error(R"({"time_us":5,"kind":"run_start","window_ms":[0,1e300]})") ==
        "t.jsonl:1: `window_ms` must be [min, max] in milliseconds, max at most 86400000");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"run_start","window_ms":[0,-1]})") ==
        "t.jsonl:1: `window_ms` must be [min, max] in milliseconds, max at most 86400000");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"fault_end"})") == "t.jsonl:1: fault_end without `fault`");
  CHECK(jsonl_error(R"({"time_us":5,"kind":"fault_start","fault":"x","requested_ms":"long"})") ==
        "t.jsonl:1: `requested_ms` must be an integer");
  // Hostile nesting is refused before it is built (the library's copies recurse); 256 levels pass.
  const auto nested = [](int n) {
    return R"({"time_us":5,"kind":"op","type":"invoke","process":1,"f":"write","value":)" + std::string(n, '[') +
           std::string(n, ']') + "}";
  };
  CHECK(jsonl_error(ok + nested(200000)) == "t.jsonl:2: nested too deeply");
  CHECK(jsonl(nested(255)).ops.size() == 1);
}

TEST_CASE("jsonl: a value of the wrong shape is refused with its line when paired") {
  const auto err = error_of([] {
    (void)pair(merge({jsonl(R"({"time_us":1,"kind":"op","type":"invoke","process":0,"f":"write","value":1})"
                            "\n"
                            R"({"time_us":2,"kind":"op","type":"invoke","process":1,"f":"cas","value":3})")}),
               {Model::cas_register, false});
  });
  CHECK(err == "t.jsonl:2: a cas value must be [from, to], not 3");
}

TEST_CASE("merge: by time, ties keep file order then line order; fault ends match by id") {
  auto a = jsonl(R"({"time_us":10,"kind":"op","type":"invoke","process":0,"f":"write","value":1})"
                 "\n"
                 R"({"time_us":20,"kind":"op","type":"ok","process":0,"f":"write","value":1})"
                 "\n"
                 R"({"time_us":30,"kind":"fault_end","fault":"f1"})"
                 "\n"
                 R"({"time_us":30,"kind":"run_start","window_ms":[100,200]})",
                 "a.jsonl");
  auto b = jsonl(R"({"time_us":5,"kind":"fault_start","fault":"f1","number":1})"
                 "\n"
                 R"({"time_us":20,"kind":"op","type":"invoke","process":1,"f":"read","value":null})"
                 "\n"
                 R"({"time_us":20,"kind":"op","type":"ok","process":1,"f":"read","value":1})"
                 "\n"
                 R"({"time_us":40,"kind":"fault_start","fault":"f2","number":2})"
                 "\n"
                 R"({"time_us":35,"kind":"run_start","window_ms":[150,300]})",
                 "b.jsonl");
  const auto m = merge({a, b});
  REQUIRE(m.ops.size() == 4);
  CHECK(m.ops[0].at.str() == "a.jsonl:1");
  CHECK(m.ops[1].at.str() == "a.jsonl:2");  // time 20: a before b
  CHECK(m.ops[2].at.str() == "b.jsonl:2");
  CHECK(m.ops[3].at.str() == "b.jsonl:3");
  CHECK(m.files == std::vector<std::string>{"a.jsonl", "b.jsonl"});
  CHECK(m.window_max_ms == 300);
  CHECK(m.first_us == 5);
  REQUIRE(m.faults.size() == 2);
  CHECK(m.faults[0].id == "f1");
  CHECK(m.faults[0].end_us == 30);
  CHECK(m.faults[1].end_us == kNever);  // never ended in these files

  const auto h = pair(merge({a, b}), {Model::register_, false});
  REQUIRE(h.ops.size() == 2);
  CHECK(h.ops[0].process == 0);
  CHECK(h.ops[1].process == 1);
  CHECK(h.ops[1].call_us == h.ops[0].return_us);  // equal times: concurrent, for the checkers
  CHECK(h.origin_us == 5);
}

TEST_CASE(
    "merge: a fault_end before its start (arming failed) lasts no time; a process going back in time is refused") {
  auto a = jsonl(R"({"time_us":50,"kind":"fault_start","fault":"f1"})"
                 "\n"
                 R"({"time_us":40,"kind":"fault_end","fault":"f1","landed":false})");
  const auto m = merge({a});
  REQUIRE(m.faults.size() == 1);
  CHECK(m.faults[0].start_us == 50);
  CHECK(m.faults[0].end_us == 50);

  auto back = jsonl(R"({"time_us":50,"kind":"op","type":"invoke","process":2,"f":"read"})"
                    "\n"
                    R"({"time_us":60,"kind":"op","type":"invoke","process":3,"f":"read"})"
                    "\n"
                    R"({"time_us":40,"kind":"op","type":"ok","process":2,"f":"read","value":1})");
  CHECK(error_of([&] { (void)merge({back}); }) == "t.jsonl:3: time_us 40 of process 2 is earlier than its line 1 (50)");
}

TEST_CASE("files: the format is chosen by name, else by the first character") {
  CHECK(is_edn("h.edn", "{\"time_us\":1}"));
  CHECK_FALSE(is_edn("h.jsonl", "[{:type :invoke}]"));
  CHECK(is_edn("history", "\n  [{:type :invoke}]"));
  CHECK(is_edn("history", "; comment\n{:type :invoke}"));
  CHECK(is_edn("history", "#jepsen.history.Op{:type :invoke}"));
  CHECK(is_edn("history", "{:type :invoke, :process 0}\n"));
  CHECK_FALSE(is_edn("history", "{\"time_us\":1,\"kind\":\"op\"}\n{:x 1}"));
  CHECK_FALSE(is_edn("history", ""));
  CHECK(starts_with(error_of([] { (void)read_file(kData + "no_such_file.jsonl"); }),
                    kData + "no_such_file.jsonl: cannot open: "));
  CHECK(starts_with(error_of([] { (void)read_file(kData + "bad_json_line3.jsonl"); }),
                    kData + "bad_json_line3.jsonl:3: not JSON: "));
}

TEST_CASE("fixtures: register_valid.jsonl reads into paired operations") {
  const auto h = read_history({kData + "register_valid.jsonl"}, {Model::register_, false});
  CHECK(h.files == std::vector<std::string>{kData + "register_valid.jsonl"});
  REQUIRE(h.ops.size() == 11);
  CHECK_FALSE(h.window_max_ms);
  CHECK(h.origin_us == 1763750000000000);
  CHECK(h.notes.size() == 1);
  for (std::size_t i = 0; i < h.ops.size(); ++i) CHECK(h.ops[i].id == i);
  for (std::size_t i = 1; i < h.ops.size(); ++i) CHECK(h.ops[i - 1].call_us <= h.ops[i].call_us);
  const auto& info_write = h.ops[5];
  CHECK(info_write.process == 3);
  CHECK(info_write.status == Status::info);
  CHECK(info_write.return_us == kNever);
  CHECK(info_write.completed_at.has_value());
  const auto& open_read = h.ops.back();
  CHECK(open_read.status == Status::info);
  CHECK_FALSE(open_read.completed_at.has_value());
  CHECK(open_read.invoked_at.line == 23);  // counting the blank line 5
}
