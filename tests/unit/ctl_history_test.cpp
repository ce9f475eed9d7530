// The history file: one JSON object per line, time-ordered through the reorder buffer,
// flushed line by line, strings escaped by the JSON library.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/history/history.hpp"

using nlohmann::json;
using ticksplit::ctl::History;

namespace {
std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("lines are written in time order, only once nothing earlier can come, and escaped") {
  const std::string path = "ctl_history_test.jsonl";
  {
    History h(path);
    h.add({{"time_us", 300}, {"kind", "nodedown"}, {"peer", "app@198.51.100.13"}, {"reason", "a \"quoted\"\nreason"}});
    h.add({{"time_us", 100}, {"kind", "run_start"}});
    h.add({{"time_us", 200}, {"kind", "fault_start"}, {"drop_sets", {{"app@h", {"b@h"}}}}});
    h.flush_before(250);
    auto partial = lines_of(path);
    REQUIRE(partial.size() == 2);  // a valid prefix on disk already
    CHECK(json::parse(partial[0])["kind"] == "run_start");
    CHECK(json::parse(partial[1])["kind"] == "fault_start");
    h.add({{"time_us", 260}, {"kind", "fault_end"}});
    h.flush_all();
  }
  auto lines = lines_of(path);
  REQUIRE(lines.size() == 4);
  std::int64_t last = 0;
  for (const auto& l : lines) {
    auto j = json::parse(l);  // each line on its own is JSON
    CHECK(j["time_us"].get<std::int64_t>() >= last);
    last = j["time_us"].get<std::int64_t>();
  }
  CHECK(json::parse(lines[3])["reason"] == "a \"quoted\"\nreason");
  CHECK(lines[3].find('\n') == std::string::npos);
  CHECK(json::parse(lines[1])["drop_sets"]["app@h"][0] == "b@h");
  std::remove(path.c_str());
}

TEST_CASE("a history file that cannot be created is a clear error") {
  CHECK_THROWS_WITH_AS(History("/nonexistent-dir/h.jsonl"),
                       doctest::Contains("cannot create the history file /nonexistent-dir/h.jsonl"),
                       ticksplit::ConfigError);
}
