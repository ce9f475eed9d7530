#include "common/proto/reply.hpp"

#include "common/proto/fault.hpp"

namespace ticksplit::proto {

using ei::atom;
using ei::atom_map;
using ei::Term;
using ei::tuple;

std::optional<TickWindow> AgentStatus::window() const {
  if (!net_ticktime_ms || !tick_intensity) return std::nullopt;
  return detection_window(*net_ticktime_ms, *tick_intensity);
}

namespace {

Term opt_int(const std::optional<std::int64_t>& v) { return v ? Term(*v) : atom("undefined"); }
Term u64(std::uint64_t v) { return Term(static_cast<std::int64_t>(v)); }

std::optional<std::int64_t> get_opt_int(const Term& m, const char* key) {
  const Term* v = m.get(key);
  const auto* i = v != nullptr ? v->as<std::int64_t>() : nullptr;
  return i != nullptr ? std::optional(*i) : std::nullopt;
}

Result<std::string> get_text(const Term& m, const char* key) {
  const Term* v = m.get(key);
  if (v != nullptr && v->is<ei::Atom>()) return v->as<ei::Atom>()->name;
  if (v != nullptr && v->is<ei::Binary>()) return v->as<ei::Binary>()->bytes;
  return protocol_error(std::string("status lacks ") + key);
}

}  // namespace

Term status_reply(const AgentStatus& s) {
  std::vector<Term> nodes;
  for (const auto& n : s.nodes)
    nodes.push_back(atom_map({{"node", atom(n.node)}, {"connected", atom(n.connected ? "true" : "false")}}));
  std::vector<Term> exempt;
  for (const auto& e : s.exempt) exempt.push_back(ei::binary(e));
  const auto w = s.window();
  return ei::ok_tuple(atom_map({
      {"agent", atom(s.agent)},
      {"nodes", ei::list(std::move(nodes))},
      {"net_ticktime_ms", opt_int(s.net_ticktime_ms)},
      {"tick_intensity", opt_int(s.tick_intensity)},
      {"detection_window_ms", w ? tuple({w->min_ms, w->max_ms}) : atom("undefined")},
      {"faults", ei::list(s.faults)},
      {"backend", atom(s.backend)},
      {"version", ei::binary(s.version)},
      {"exempt", ei::list(std::move(exempt))},
      {"max_fault_ms", s.max_fault_ms},
      {"event_log", atom_map({{"next_seq", u64(s.events.next_seq)},
                              {"held", u64(s.events.held)},
                              {"capacity", u64(s.events.capacity)},
                              {"dropped", u64(s.events.dropped)}})},
  }));
}

std::optional<std::string> refused_text(const Term& reply) {
  const auto* e = reply.tuple_of(2);
  if (e == nullptr || !(*e)[0].is_atom("error")) return std::nullopt;
  if ((*e)[1].is_atom(refusal_name(Refusal::Kind::not_allowed)))
    return "not_allowed: the agent serves only nodes whose name matches its --allow patterns";
  return "refused: " + ei::log_text((*e)[1]);
}

Result<AgentStatus> parse_status_reply(const Term& t) {
  if (auto refused = refused_text(t)) return protocol_error(*refused);
  const auto* ok = t.tuple_of(2);
  if (ok == nullptr || !(*ok)[0].is_atom("ok") || !(*ok)[1].is<ei::Map>())
    return protocol_error("not a status reply: " + ei::log_text(t));
  const Term& m = (*ok)[1];
  AgentStatus s;
  auto agent = get_text(m, "agent");
  auto backend = get_text(m, "backend");
  auto version = get_text(m, "version");
  if (!agent) return agent.error();
  if (!backend) return backend.error();
  if (!version) return version.error();
  s.agent = *agent;
  s.backend = *backend;
  s.version = *version;
  s.net_ticktime_ms = get_opt_int(m, "net_ticktime_ms");
  s.tick_intensity = get_opt_int(m, "tick_intensity");
  s.max_fault_ms = get_opt_int(m, "max_fault_ms").value_or(0);
  if (const Term* nodes = m.get("nodes"); nodes != nullptr && nodes->is<ei::List>()) {
    for (const auto& n : nodes->as<ei::List>()->items) {
      auto name = get_text(n, "node");
      if (!name) return name.error();
      const Term* c = n.get("connected");
      s.nodes.push_back({*name, c != nullptr && c->is_atom("true")});
    }
  }
  if (const Term* ex = m.get("exempt"); ex != nullptr && ex->is<ei::List>())
    for (const auto& e : ex->as<ei::List>()->items)
      if (const auto* b = e.as<ei::Binary>()) s.exempt.push_back(b->bytes);
  if (const Term* faults = m.get("faults"); faults != nullptr && faults->is<ei::List>())
    s.faults = faults->as<ei::List>()->items;
  if (const Term* log = m.get("event_log"); log != nullptr) {
    s.events.next_seq = static_cast<std::uint64_t>(get_opt_int(*log, "next_seq").value_or(0));
    s.events.held = static_cast<std::uint64_t>(get_opt_int(*log, "held").value_or(0));
    s.events.capacity = static_cast<std::uint64_t>(get_opt_int(*log, "capacity").value_or(0));
    s.events.dropped = static_cast<std::uint64_t>(get_opt_int(*log, "dropped").value_or(0));
  }
  return s;
}

Term events_reply(const std::vector<Event>& events, std::uint64_t next_seq) {
  std::vector<Term> items;
  items.reserve(events.size());
  for (const auto& e : events) items.push_back(to_term(e));
  return tuple({atom("ok"), ei::list(std::move(items)), Term(static_cast<std::int64_t>(next_seq))});
}

}  // namespace ticksplit::proto
