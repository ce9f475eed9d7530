#include "controller/report/edn.hpp"

#include <sstream>

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

std::string edn_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  return out + "\"";
}

// A keyword of a name made safe: letters, digits and -_.*+!?<>= kept, the rest as '-'.
std::string keyword(const std::string& name) {
  std::string k = ":";
  for (char c : name) k += (std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string("-_.*+!?<>=").find(c) != std::string::npos) ? c : '-';
  return k.size() > 1 ? k : ":unknown";
}

std::string edn(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "nil";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.dump();
    case json::value_t::string: return edn_string(v.get<std::string>());
    case json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + edn(v[i]);
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        out += (first ? "" : ", ") + edn_string(k) + " " + edn(x);
        first = false;
      }
      return out + "}";
    }
    default: return "nil";
  }
}

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string history_edn(const HistoryLines& history) {
  std::ostringstream o;
  const auto& lines = history.lines;
  if (lines.empty()) return "";
  std::int64_t origin = lines.front()["time_us"].get<std::int64_t>();
  for (const auto& l : lines)
    if (str(l, "kind") == "run_start") origin = std::min(origin, l["time_us"].get<std::int64_t>());
  std::size_t index = 0;
  const auto op = [&](const json& line, const std::string& type, const std::string& process, const std::string& f,
                      const std::string& value, const std::string& extra = "") {
    const auto ns = (line["time_us"].get<std::int64_t>() - origin) * 1000;
    o << "{:index " << index++ << ", :time " << ns << ", :type " << type << ", :process " << process << ", :f " << f
      << ", :value " << value << extra << "}\n";
  };
  const auto nemesis = [&](const json& line, const std::string& f, const std::string& value) {
    op(line, ":info", ":nemesis", f, value);
    op(line, ":info", ":nemesis", f, value);
  };
  const auto fields = [](const json& line, std::initializer_list<const char*> keys) {
    json v = json::object();
    for (const char* k : keys)
      if (line.contains(k)) v[k] = line[k];
    return edn(v);
  };
  for (const auto& l : lines) {
    const auto kind = str(l, "kind");
    if (kind == "op" && l.contains("process") && l["process"].is_number_integer()) {
      const auto type = str(l, "type");
      if (type != "invoke" && type != "ok" && type != "fail" && type != "info") continue;
      const json value = l.value("value", json());
      const std::string v = l.contains("key") && !l["key"].is_null() ? "[" + edn(l["key"]) + " " + edn(value) + "]" : edn(value);
      std::string extra;
      if (l.contains("node")) extra += ", :node " + edn(l["node"]);
      if (l.contains("error")) extra += ", :error " + edn(l["error"]);
      op(l, ":" + type, std::to_string(l["process"].get<std::int64_t>()), keyword(str(l, "f")), v, extra);
    } else if (kind == "fault_start") {
      nemesis(l, ":start-partition",
              fields(l, {"fault", "number", "shape", "drop_sets", "groups", "requested_ms", "window_class",
                         "effective_groups", "links_cut"}));
    } else if (kind == "fault_end") {
      nemesis(l, ":stop-partition", fields(l, {"fault", "dropped_packets", "effective_outage_us", "landed"}));
    } else if (kind == "nodeup" || kind == "nodedown") {
      nemesis(l, keyword(kind), fields(l, {"observer", "peer", "reason", "node_type", "agent"}));
    } else if (kind == "node_joined" || kind == "node_lost") {
      nemesis(l, kind == "node_joined" ? ":node-joined" : ":node-lost", fields(l, {"node", "reason", "agent"}));
    } else if (kind == "log") {
      nemesis(l, ":log", fields(l, {"node", "level", "message", "dropped"}));
    }
  }
  return o.str();
}

}  // namespace ticksplit::ctl
