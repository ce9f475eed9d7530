// Files → events (choosing the format), and several files → one time-ordered stream.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "controller/check/read.hpp"

namespace ticksplit::check {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Within one file, a process's lines must not go back in time: sorting would then put a
// completion before its invoke, and the error would not say why.
void check_process_times(const Events& file) {
  std::map<std::int64_t, const OpEvent*> last;
  for (const auto& e : file.ops) {
    auto [it, fresh] = last.try_emplace(e.process, &e);
    if (!fresh && e.time_us < it->second->time_us)
      throw ParseError(e.at, "time_us " + std::to_string(e.time_us) + " of process " + std::to_string(e.process) +
                                 " is earlier than its line " + std::to_string(it->second->at.line) + " (" +
                                 std::to_string(it->second->time_us) + ")");
    it->second = &e;
  }
}

// fault_end lines name their fault by id; a fault whose end comes before its start (arming
// failed, the end written at once) lasts no time.
void match_fault_ends(Events& ev) {
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < ev.faults.size(); ++i) by_id[ev.faults[i].id] = i;
  for (const auto& [id, t] : ev.fault_ends) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) continue;  // its start is not in these files
    auto& f = ev.faults[it->second];
    if (f.end_us == kNever) f.end_us = std::max(f.start_us, t);
  }
}

}  // namespace

bool OpEvent::set_type(const std::string& type) {
  if (type == "invoke") {
    invoke = true;
    return true;
  }
  invoke = false;
  if (type == "ok") status = Status::ok;
  else if (type == "fail") status = Status::fail;
  else if (type == "info") status = Status::info;
  else return false;
  return true;
}

bool is_edn(const std::string& path, std::string_view text) {
  if (ends_with(path, ".edn")) return true;
  if (ends_with(path, ".jsonl") || ends_with(path, ".json")) return false;
  const auto first = text.find_first_not_of(" \t\r\n,");
  if (first == std::string_view::npos) return false;
  const char c = text[first];
  if (c == '[' || c == '(' || c == '#' || c == ';') return true;
  if (c != '{') return false;
  const auto eol = text.find('\n', first);
  const auto line = text.substr(first, eol == std::string_view::npos ? std::string_view::npos : eol - first);
  const auto j = nlohmann::json::parse(line, nullptr, false);
  return j.is_discarded() || !j.is_object();
}

Events read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ParseError(path + ": cannot read: a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ParseError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream all;
  all << in.rdbuf();
  const auto text = std::move(all).str();
  if (is_edn(path, text)) return read_edn(text, path);
  std::istringstream lines(text);
  return read_jsonl(lines, path);
}

Events merge(std::vector<Events> files) {
  Events out;
  for (auto& f : files) {
    check_process_times(f);
    append(out.ops, f.ops);
    append(out.faults, f.faults);
    append(out.fault_ends, f.fault_ends);
    append(out.node_events, f.node_events);
    append(out.notes, f.notes);
    append(out.files, f.files);
    if (f.window_max_ms) out.window_max_ms = std::max(out.window_max_ms.value_or(*f.window_max_ms), *f.window_max_ms);
    if (f.first_us) out.first_us = std::min(out.first_us.value_or(*f.first_us), *f.first_us);
  }
  std::stable_sort(out.ops.begin(), out.ops.end(), [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  std::stable_sort(out.faults.begin(), out.faults.end(),
                   [](const auto& a, const auto& b) { return a.start_us < b.start_us; });
  std::stable_sort(out.fault_ends.begin(), out.fault_ends.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  std::stable_sort(out.node_events.begin(), out.node_events.end(),
                   [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  std::stable_sort(out.notes.begin(), out.notes.end(),
                   [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  match_fault_ends(out);
  return out;
}

History read_history(const std::vector<std::string>& paths, const PairOptions& options) {
  std::vector<Events> files;
  files.reserve(paths.size());
  for (const auto& p : paths) files.push_back(read_file(p));
  return pair(merge(std::move(files)), options);
}

}  // namespace ticksplit::check
