#include "common/proto/event.hpp"

namespace ticksplit::proto {

using ei::atom;
using ei::Term;

const Term* Event::field(std::string_view name) const noexcept {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

Term to_term(const Event& e) {
  ei::Map m;
  m.entries.reserve(3 + e.fields.size());
  m.entries.emplace_back(atom("seq"), static_cast<std::int64_t>(e.seq));
  m.entries.emplace_back(atom("type"), atom(e.type));
  m.entries.emplace_back(atom("time_us"), e.time_us);
  for (const auto& [k, v] : e.fields) m.entries.emplace_back(atom(k), v);
  return m;
}

Result<Event> event_from_term(const Term& t) {
  const auto* m = t.as<ei::Map>();
  if (m == nullptr) return protocol_error("event is not a map: " + ei::log_text(t));
  Event e;
  bool has_seq = false, has_type = false, has_time = false;
  for (const auto& [k, v] : m->entries) {
    const auto* key = k.as<ei::Atom>();
    if (key == nullptr) return protocol_error("event key is not an atom: " + ei::log_text(k));
    const auto* i = v.as<std::int64_t>();
    if (key->name == "seq" && i != nullptr && *i >= 0) {
      e.seq = static_cast<std::uint64_t>(*i);
      has_seq = true;
    } else if (key->name == "type" && v.is<ei::Atom>()) {
      e.type = v.as<ei::Atom>()->name;
      has_type = true;
    } else if (key->name == "time_us" && i != nullptr) {
      e.time_us = *i;
      has_time = true;
    } else if (key->name == "seq" || key->name == "type" || key->name == "time_us") {
      return protocol_error("event field " + key->name + " has a bad value: " + ei::log_text(v));
    } else {
      e.fields.emplace_back(key->name, v);
    }
  }
  if (!has_seq || !has_type || !has_time) return protocol_error("event lacks seq, type or time_us");
  return e;
}

Term event_message(const std::string& agent_node, Term event) {
  return ei::tuple({atom("ticksplit_event"), atom(agent_node), std::move(event)});
}

Term event_message(const std::string& agent_node, const Event& e) { return event_message(agent_node, to_term(e)); }

}  // namespace ticksplit::proto
