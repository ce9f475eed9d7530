// ticksplit's JSON Lines history (docs/history.md) → events. Each non-blank line is one
// object with an integer `time_us` and a `kind`; `op` lines are client events, `run_start`,
// `fault_start`, `fault_end`, `nodeup`/`nodedown` and `note` are context, other kinds are
// ignored.
#include <algorithm>
#include <cctype>
#include <string>

#include "controller/check/read.hpp"

namespace ticksplit::check {
namespace {

using nlohmann::json;

std::string text_of(const json& line, const char* name) {
  const auto it = line.find(name);
  if (it == line.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::int64_t int_of(const json& line, const char* name, const Where& at) {
  const auto it = line.find(name);
  if (it == line.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) throw ParseError(at, std::string("`") + name + "` must be an integer");
  return it->get<std::int64_t>();
}

OpEvent op_event(const json& line, const Where& at) {
  OpEvent e;
  e.at = at;
  const auto type = text_of(line, "type");
  if (!e.set_type(type)) {
    throw ParseError(at, "`type` must be invoke, ok, fail or info, not " +
                             (line.contains("type") ? line["type"].dump() : std::string("missing")));
  }
  const auto p = line.find("process");
  if (p == line.end() || !p->is_number_integer())
    throw ParseError(at, "`process` must be an integer, not " + (p == line.end() ? std::string("missing") : p->dump()));
  e.process = p->get<std::int64_t>();
  const auto f = line.find("f");
  const auto fn = f != line.end() && f->is_string() ? fn_from(f->get<std::string>()) : std::nullopt;
  if (!fn)
    throw ParseError(at, "`f` must be one of read, write, cas, append, add, enqueue, dequeue, drain, not " +
                             (f == line.end() ? std::string("missing") : f->dump()));
  e.f = *fn;
  e.value = line.value("value", json());
  if (const auto k = line.find("key"); k != line.end() && !k->is_null()) e.key = *k;
  e.node = text_of(line, "node");
  return e;
}

Fault fault_start(const json& line, const Where& at, std::int64_t time_us) {
  Fault f;
  f.number = int_of(line, "number", at);
  f.id = text_of(line, "fault");
  if (f.id.empty()) f.id = std::to_string(f.number);
  f.shape = text_of(line, "shape");
  f.window_class = text_of(line, "window_class");
  f.requested_ms = int_of(line, "requested_ms", at);
  f.start_us = time_us;
  f.drop_sets = line.value("drop_sets", json());
  return f;
}

std::optional<std::int64_t> window_max(const json& line, const Where& at) {
  const auto w = line.find("window_ms");
  if (w == line.end() || w->is_null()) return std::nullopt;
  if (!w->is_array() || w->size() != 2 || !(*w)[1].is_number_integer() || (*w)[1].get<std::int64_t>() < 0 ||
      (*w)[1].get<std::int64_t>() > kMaxWindowMs)
    throw ParseError(at, "`window_ms` must be [min, max] in milliseconds, max at most " +
                             std::to_string(kMaxWindowMs));
  return (*w)[1].get<std::int64_t>();
}

void add_line(Events& out, const json& line, const Where& at) {
  if (!line.is_object()) throw ParseError(at, "a history line must be a JSON object");
  const auto t = line.find("time_us");
  if (t == line.end() || !t->is_number_integer()) throw ParseError(at, "missing or non-integer `time_us`");
  const auto time_us = t->get<std::int64_t>();
  const auto k = line.find("kind");
  if (k == line.end() || !k->is_string()) throw ParseError(at, "missing `kind`");
  const auto& kind = k->get_ref<const std::string&>();
  out.first_us = std::min(out.first_us.value_or(time_us), time_us);
  if (kind == "op") {
    auto e = op_event(line, at);
    e.time_us = time_us;
    out.ops.push_back(std::move(e));
  } else if (kind == "run_start") {
    if (auto w = window_max(line, at)) out.window_max_ms = std::max(out.window_max_ms.value_or(*w), *w);
  } else if (kind == "fault_start") {
    out.faults.push_back(fault_start(line, at, time_us));
  } else if (kind == "fault_end") {
    const auto id = text_of(line, "fault");
    if (id.empty()) throw ParseError(at, "fault_end without `fault`");
    out.fault_ends.emplace_back(id, time_us);
  } else if (kind == "nodedown" || kind == "nodeup") {
    out.node_events.push_back({time_us, kind == "nodedown", text_of(line, "observer"), text_of(line, "peer"),
                               text_of(line, "reason"), text_of(line, "node_type")});
  } else if (kind == "note") {
    out.notes.push_back({time_us, text_of(line, "text"), at});
  }
}

}  // namespace

Events read_jsonl(std::istream& in, const std::string& file) {
  Events out;
  out.files.push_back(file);
  std::size_t n = 0;
  for (std::string s; std::getline(in, s);) {
    const Where at{file, ++n};
    if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; })) continue;
    json line;
    const json::parser_callback_t bounded = [&at](int depth, json::parse_event_t, json&) {
      if (depth > kMaxNesting) throw ParseError(at, "nested too deeply");
      return true;
    };
    try {
      line = json::parse(s, bounded);
    } catch (const json::parse_error& e) {
      std::string why = e.what();  // "[json.exception.parse_error.101] parse error at ...": keep the part after "] "
      if (const auto cut = why.find("] "); cut != std::string::npos) why.erase(0, cut + 2);
      throw ParseError(at, "not JSON: " + why);
    }
    add_line(out, line, at);
  }
  return out;
}

}  // namespace ticksplit::check
