#include "controller/report/history_lines.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "controller/check/read.hpp"

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

// One file's lines; the last one may be cut short (a crash mid-write).
void parse_into(const std::string& text, const std::string& name, HistoryLines& out) {
  std::vector<std::string> raw;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) raw.push_back(line);
  while (!raw.empty() && raw.back().find_first_not_of(" \t\r") == std::string::npos) raw.pop_back();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto& line = raw[i];
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(i + 1);
    const bool last = i + 1 == raw.size();
    // Bounded nesting: the JSON library's copies and dumps recurse (as `check`'s reader does).
    bool too_deep = false;
    const json::parser_callback_t depth = [&too_deep](int d, json::parse_event_t, json&) {
      too_deep = too_deep || d > check::kMaxNesting;
      return !too_deep;
    };
    json j = json::parse(line, depth, false);
    std::string why;
    if (too_deep)
      why = "nested deeper than " + std::to_string(check::kMaxNesting);
    else if (j.is_discarded() || !j.is_object())
      why = "not a JSON object";
    else if (!j.contains("time_us") || !j["time_us"].is_number_integer())
      why = "no integer time_us";
    else if (j["time_us"].get<std::int64_t>() < 0 || j["time_us"].get<std::int64_t>() > max_time_us)
      why = "time_us outside 1970..2096";
    else if (!j.contains("kind") || !j["kind"].is_string())
      why = "no kind";
    if (why.empty()) {
      out.lines.push_back(std::move(j));
    } else if (last) {
      out.problems.push_back(where + ": " + why + " (the history was cut short here; the lines before it are read)");
    } else {
      throw ConfigError(where + ": " + why);
    }
  }
}

}  // namespace

HistoryLines parse_history_lines(const std::string& text, const std::string& name) {
  HistoryLines out;
  parse_into(text, name, out);
  std::stable_sort(out.lines.begin(), out.lines.end(), [](const json& a, const json& b) {
    return a["time_us"].get<std::int64_t>() < b["time_us"].get<std::int64_t>();
  });
  return out;
}

HistoryLines read_history_lines(const std::vector<std::string>& files) {
  HistoryLines out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw ConfigError("cannot read history " + f);
    std::ostringstream text;
    text << in.rdbuf();
    parse_into(text.str(), f, out);
  }
  std::stable_sort(out.lines.begin(), out.lines.end(), [](const json& a, const json& b) {
    return a["time_us"].get<std::int64_t>() < b["time_us"].get<std::int64_t>();
  });
  return out;
}

}  // namespace ticksplit::ctl
