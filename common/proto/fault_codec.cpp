#include "common/proto/fault_codec.hpp"

#include <utility>

namespace ticksplit::proto {

using ei::atom;
using ei::Term;
using ei::tuple;

namespace {

Term bin(const std::string& s) { return ei::binary(s); }
Term strings(const std::vector<std::string>& v) {
  std::vector<Term> out;
  out.reserve(v.size());
  for (const auto& s : v) out.push_back(bin(s));
  return ei::list(std::move(out));
}
Term boolean(bool b) { return atom(b ? "true" : "false"); }
Term maybe(const std::optional<std::int64_t>& v) { return v ? Term(*v) : atom("undefined"); }
Term maybe_text(const std::optional<std::string>& v) { return v ? bin(*v) : atom("undefined"); }
Term maybe(const std::optional<double>& v) { return v ? Term(*v) : atom("undefined"); }
// {Median, Max, Count, Lost}: the round trips of a stress's probes.
Term round_trips(const RoundTrips& r) { return tuple({maybe(r.median_ms), maybe(r.max_ms), r.count, r.lost}); }

// Reading back: each helper fails the whole event with the field's name.
struct Reader {
  const Event& e;
  std::optional<Error> error;

  const Term* need(const char* name) {
    const Term* t = e.field(name);
    if (t == nullptr && !error) error = protocol_error(e.type + " without " + name);
    return t;
  }
  void bad(const char* name) {
    if (!error) error = protocol_error(e.type + " with a bad " + name + ": " + ei::log_text(*e.field(name)));
  }
  std::string text(const char* name) {
    const Term* t = need(name);
    if (t == nullptr) return {};
    if (const auto* b = t->as<ei::Binary>()) return b->bytes;
    if (const auto* a = t->as<ei::Atom>()) return a->name;
    bad(name);
    return {};
  }
  std::int64_t integer(const char* name) {
    const Term* t = need(name);
    if (t != nullptr && t->is<std::int64_t>()) return *t->as<std::int64_t>();
    if (t != nullptr) bad(name);
    return 0;
  }
  std::optional<std::int64_t> maybe_integer(const char* name) {
    const Term* t = need(name);
    if (t == nullptr || t->is_atom("undefined")) return std::nullopt;
    if (t->is<std::int64_t>()) return *t->as<std::int64_t>();
    bad(name);
    return std::nullopt;
  }
  std::optional<std::string> maybe_text(const char* name) {
    const Term* t = need(name);
    if (t == nullptr || t->is_atom("undefined")) return std::nullopt;
    if (const auto* b = t->as<ei::Binary>()) return b->bytes;
    bad(name);
    return std::nullopt;
  }
  bool flag(const char* name) {
    const Term* t = need(name);
    if (t != nullptr && (t->is_atom("true") || t->is_atom("false"))) return t->is_atom("true");
    if (t != nullptr) bad(name);
    return false;
  }
  HealReason reason(const char* name);
  // A float in [lo, hi] (an integer is taken as one), or undefined.
  std::optional<double> maybe_real(const char* name, double lo, double hi) {
    const Term* t = need(name);
    if (t == nullptr || t->is_atom("undefined")) return std::nullopt;
    std::optional<double> v;
    if (const auto* d = t->as<double>()) v = *d;
    if (const auto* i = t->as<std::int64_t>()) v = static_cast<double>(*i);
    if (v && *v >= lo && *v <= hi) return v;  // NaN fails both
    bad(name);
    return std::nullopt;
  }
  RoundTrips round_trips(const char* name);
  Loss loss(const char* name) {
    const Term* t = need(name);
    if (t == nullptr) return {};
    if (const auto l = loss_of_term(*t)) return *l;
    bad(name);
    return {};
  }
  std::vector<std::string> texts(const char* name) {
    std::vector<std::string> out;
    const Term* t = need(name);
    const auto* l = t != nullptr ? t->as<ei::List>() : nullptr;
    if (t != nullptr && l == nullptr) bad(name);
    if (l == nullptr) return out;
    for (const auto& item : l->items) {
      if (const auto* b = item.as<ei::Binary>())
        out.push_back(b->bytes);
      else if (const auto* a = item.as<ei::Atom>())
        out.push_back(a->name);
      else
        bad(name);
    }
    return out;
  }
};

std::optional<Direction> direction_from(const std::string& s) {
  for (auto d : {Direction::in, Direction::out, Direction::both})
    if (s == direction_name(d)) return d;
  return std::nullopt;
}

std::optional<HealReason> heal_reason_from(const std::string& s) {
  for (auto r : {HealReason::deadline, HealReason::request, HealReason::heal_all, HealReason::owner_gone,
                 HealReason::shutdown})
    if (s == heal_reason_name(r)) return r;
  return std::nullopt;
}

RoundTrips Reader::round_trips(const char* name) {
  RoundTrips out;
  const Term* t = need(name);
  const auto* q = t != nullptr ? t->tuple_of(4) : nullptr;
  if (t != nullptr && q == nullptr) bad(name);
  if (q == nullptr) return out;
  Event one{0, name, 0, {{"median", (*q)[0]}, {"max", (*q)[1]}, {"count", (*q)[2]}, {"lost", (*q)[3]}}};
  Reader r{one, std::nullopt};
  constexpr double hour_ms = 3.6e6;
  out.median_ms = r.maybe_real("median", 0, hour_ms);
  out.max_ms = r.maybe_real("max", 0, hour_ms);
  out.count = r.integer("count");
  out.lost = r.integer("lost");
  if (r.error || out.count < 0 || out.lost < 0 || out.median_ms.has_value() != out.max_ms.has_value()) bad(name);
  return out;
}

HealReason Reader::reason(const char* name) {
  const auto why = heal_reason_from(text(name));
  if (!why) bad(name);
  return why.value_or(HealReason::request);
}

}  // namespace

Event to_event(const TimedFaultEvent& te) {
  Event out;
  out.type = event_type(te.event);
  out.time_us = te.time_us;
  struct V {
    Event& out;
    void operator()(const FaultStarted& s) const {
      out.fields = {{"id", bin(s.id)},
                    {"peers", strings(s.peers)},
                    {"addresses", strings(s.addresses.shown)},
                    {"address_count", s.addresses.count},
                    {"direction", atom(direction_name(s.direction))},
                    {"owner", atom(s.owner)},
                    {"start_us", s.start_us},
                    {"end_us", s.end_us},
                    {"loss", s.loss.probability()}};
    }
    void operator()(const FaultHealed& h) const {
      out.fields = {{"id", bin(h.id)},
                    {"peers", strings(h.peers)},
                    {"reason", atom(heal_reason_name(h.reason))},
                    {"started", boolean(h.started)},
                    {"start_us", h.start_us},
                    {"end_us", h.end_us},
                    {"dropped_packets", h.evidence.dropped_packets},
                    {"dropped_bytes", h.evidence.dropped_bytes},
                    {"first_drop_us", maybe(h.evidence.first_drop_us)},
                    {"last_drop_us", maybe(h.evidence.last_drop_us)},
                    {"passed_packets", h.evidence.passed_packets}};
    }
    void operator()(const FaultRecovered& r) const {
      std::vector<Term> per_peer;
      for (const auto& p : r.per_peer)
        per_peer.push_back(ei::atom_map({{"address", bin(p.address)},
                                         {"effective_outage_us", maybe(p.outage_us)},
                                         {"recovered", boolean(p.recovered)}}));
      out.fields = {{"id", bin(r.id)},
                    {"peers", strings(r.peers)},
                    {"recovered", boolean(r.recovered)},
                    {"effective_outage_us", maybe(r.effective_outage_us)},
                    {"per_peer", ei::list(std::move(per_peer))},
                    {"address_count", r.address_count}};
    }
    void operator()(const PauseStarted& p) const {
      out.fields = {{"id", bin(p.id)},
                    {"node", atom(p.node)},
                    {"os_pid", p.os_pid},
                    {"owner", atom(p.owner)},
                    {"stopped_us", p.stopped_us},
                    {"confirmed_us", maybe(p.confirmed_us)},
                    {"planned_end_us", p.planned_end_us}};
    }
    void operator()(const PauseEnded& p) const {
      out.fields = {{"id", bin(p.id)},
                    {"node", atom(p.node)},
                    {"reason", atom(heal_reason_name(p.reason))},
                    {"started", boolean(p.started)},
                    {"stopped_us", maybe(p.stopped_us)},
                    {"resumed_us", maybe(p.resumed_us)},
                    {"planned_end_us", p.planned_end_us},
                    {"error", bin(p.error)}};
    }
    void operator()(const NodeKilled& k) const {
      out.fields = {{"id", bin(k.id)},
                    {"node", atom(k.node)},
                    {"os_pid", k.os_pid},
                    {"owner", atom(k.owner)},
                    {"killed_us", k.killed_us},
                    {"exited_us", maybe(k.exited_us)},
                    {"planned_restart_us", maybe(k.planned_restart_us)}};
    }
    void operator()(const KillEnded& k) const {
      out.fields = {{"id", bin(k.id)},
                    {"node", atom(k.node)},
                    {"reason", atom(heal_reason_name(k.reason))},
                    {"killed", boolean(k.killed)},
                    {"killed_us", maybe(k.killed_us)},
                    {"exited_us", maybe(k.exited_us)},
                    {"planned_restart_us", maybe(k.planned_restart_us)},
                    {"started_us", maybe(k.started_us)},
                    {"start_pid", maybe(k.start_pid)},
                    {"error", bin(k.error)}};
    }
    void operator()(const ProcessKilled& k) const {
      const bool by_name = k.target.kind == ProcessTarget::Kind::name;
      out.fields = {{"id", bin(k.id)},
                    {"node", atom(k.node)},
                    {"owner", atom(k.owner)},
                    {"target", atom(process_target_name(k.target.kind))},
                    {by_name ? "name" : "supervisor", atom(k.target.name)},
                    {"child_id", bin(k.child_id)},
                    {"pid", maybe_text(k.pid)},
                    {"planned_us", k.planned_us},
                    {"killed_us", maybe(k.killed_us)},
                    {"restart_window_ms", k.restart_window_ms},
                    {"restarted", boolean(k.restarted)},
                    {"new_pid", maybe_text(k.new_pid)},
                    {"restarted_us", maybe(k.restarted_us)},
                    {"error", bin(k.error)}};
    }
    void operator()(const StressStarted& p) const {
      out.fields = {{"id", bin(p.id)},
                    {"node", atom(p.node)},
                    {"owner", atom(p.owner)},
                    {"started_us", p.started_us},
                    {"planned_end_us", p.planned_end_us},
                    {"hogs", p.hogs},
                    {"processes", p.processes}};
    }
    void operator()(const StressEnded& p) const {
      out.fields = {{"id", bin(p.id)},
                    {"node", atom(p.node)},
                    {"reason", atom(heal_reason_name(p.reason))},
                    {"started", boolean(p.started)},
                    {"started_us", maybe(p.started_us)},
                    {"ended_us", maybe(p.ended_us)},
                    {"planned_end_us", p.planned_end_us},
                    {"hogs", p.hogs},
                    {"processes", p.processes},
                    {"utilisation_before", maybe(p.utilisation_before)},
                    {"utilisation_during", maybe(p.utilisation_during)},
                    {"utilisation_after", maybe(p.utilisation_after)},
                    {"normal_late_max_ms", maybe(p.normal_late_max_ms)},
                    {"rtt_before_ms", round_trips(p.rtt_before)},
                    {"rtt_during_ms", round_trips(p.rtt_during)},
                    {"error", bin(p.error)}};
    }
  };
  std::visit(V{out}, te.event);
  return out;
}

Result<FaultEvent> fault_event_from(const Event& e) {
  Reader r{e, std::nullopt};
  FaultEvent out;
  if (e.type == "fault_started") {
    FaultStarted s;
    s.id = r.text("id");
    s.peers = r.texts("peers");
    s.addresses.shown = r.texts("addresses");
    s.addresses.count = r.integer("address_count");
    const auto d = direction_from(r.text("direction"));
    if (!d) r.bad("direction");
    s.direction = d.value_or(Direction::in);
    s.owner = r.text("owner");
    s.start_us = r.integer("start_us");
    s.end_us = r.integer("end_us");
    if (e.field("loss") != nullptr) s.loss = r.loss("loss");  // an agent from before loss: total
    out = std::move(s);
  } else if (e.type == "fault_healed") {
    FaultHealed h;
    h.id = r.text("id");
    h.peers = r.texts("peers");
    h.reason = r.reason("reason");
    h.started = r.flag("started");
    h.start_us = r.integer("start_us");
    h.end_us = r.integer("end_us");
    h.evidence.dropped_packets = r.integer("dropped_packets");
    h.evidence.dropped_bytes = r.integer("dropped_bytes");
    h.evidence.first_drop_us = r.maybe_integer("first_drop_us");
    h.evidence.last_drop_us = r.maybe_integer("last_drop_us");
    if (e.field("passed_packets") != nullptr) h.evidence.passed_packets = r.integer("passed_packets");
    out = std::move(h);
  } else if (e.type == "fault_recovered") {
    FaultRecovered f;
    f.id = r.text("id");
    f.peers = r.texts("peers");
    f.recovered = r.flag("recovered");
    f.effective_outage_us = r.maybe_integer("effective_outage_us");
    f.address_count = r.integer("address_count");
    const Term* per = r.need("per_peer");
    const auto* l = per != nullptr ? per->as<ei::List>() : nullptr;
    if (per != nullptr && l == nullptr) r.bad("per_peer");
    for (const auto& item : l != nullptr ? l->items : std::vector<Term>{}) {
      const auto* m = item.as<ei::Map>();
      if (m == nullptr) {
        r.bad("per_peer");
        break;
      }
      Event one{0, "per_peer", 0, {}};
      for (const auto& [k, v] : m->entries)
        if (const auto* key = k.as<ei::Atom>()) one.fields.emplace_back(key->name, v);
      Reader pr{one, std::nullopt};
      PeerOutage p{pr.text("address"), pr.maybe_integer("effective_outage_us"), pr.flag("recovered")};
      if (pr.error && !r.error) r.error = pr.error;
      f.per_peer.push_back(std::move(p));
    }
    out = std::move(f);
  } else if (e.type == "pause_started") {
    PauseStarted p;
    p.id = r.text("id");
    p.node = r.text("node");
    p.os_pid = r.integer("os_pid");
    p.owner = r.text("owner");
    p.stopped_us = r.integer("stopped_us");
    p.confirmed_us = r.maybe_integer("confirmed_us");
    p.planned_end_us = r.integer("planned_end_us");
    out = std::move(p);
  } else if (e.type == "pause_ended") {
    PauseEnded p;
    p.id = r.text("id");
    p.node = r.text("node");
    p.reason = r.reason("reason");
    p.started = r.flag("started");
    p.stopped_us = r.maybe_integer("stopped_us");
    p.resumed_us = r.maybe_integer("resumed_us");
    p.planned_end_us = r.integer("planned_end_us");
    p.error = r.text("error");
    out = std::move(p);
  } else if (e.type == "node_killed") {
    NodeKilled k;
    k.id = r.text("id");
    k.node = r.text("node");
    k.os_pid = r.integer("os_pid");
    k.owner = r.text("owner");
    k.killed_us = r.integer("killed_us");
    k.exited_us = r.maybe_integer("exited_us");
    k.planned_restart_us = r.maybe_integer("planned_restart_us");
    out = std::move(k);
  } else if (e.type == "kill_ended") {
    KillEnded k;
    k.id = r.text("id");
    k.node = r.text("node");
    k.reason = r.reason("reason");
    k.killed = r.flag("killed");
    k.killed_us = r.maybe_integer("killed_us");
    k.exited_us = r.maybe_integer("exited_us");
    k.planned_restart_us = r.maybe_integer("planned_restart_us");
    k.started_us = r.maybe_integer("started_us");
    k.start_pid = r.maybe_integer("start_pid");
    k.error = r.text("error");
    out = std::move(k);
  } else if (e.type == "process_killed") {
    ProcessKilled k;
    k.id = r.text("id");
    k.node = r.text("node");
    k.owner = r.text("owner");
    const auto target = r.text("target");
    if (target == process_target_name(ProcessTarget::Kind::name)) {
      k.target = {ProcessTarget::Kind::name, r.text("name")};
    } else if (target == process_target_name(ProcessTarget::Kind::child_of)) {
      k.target = {ProcessTarget::Kind::child_of, r.text("supervisor")};
    } else {
      r.bad("target");
    }
    k.child_id = r.text("child_id");
    k.pid = r.maybe_text("pid");
    k.planned_us = r.integer("planned_us");
    k.killed_us = r.maybe_integer("killed_us");
    k.restart_window_ms = r.integer("restart_window_ms");
    k.restarted = r.flag("restarted");
    k.new_pid = r.maybe_text("new_pid");
    k.restarted_us = r.maybe_integer("restarted_us");
    k.error = r.text("error");
    out = std::move(k);
  } else if (e.type == "stress_started") {
    StressStarted p;
    p.id = r.text("id");
    p.node = r.text("node");
    p.owner = r.text("owner");
    p.started_us = r.integer("started_us");
    p.planned_end_us = r.integer("planned_end_us");
    p.hogs = r.integer("hogs");
    p.processes = r.integer("processes");
    out = std::move(p);
  } else if (e.type == "stress_ended") {
    StressEnded p;
    p.id = r.text("id");
    p.node = r.text("node");
    p.reason = r.reason("reason");
    p.started = r.flag("started");
    p.started_us = r.maybe_integer("started_us");
    p.ended_us = r.maybe_integer("ended_us");
    p.planned_end_us = r.integer("planned_end_us");
    p.hogs = r.integer("hogs");
    p.processes = r.integer("processes");
    p.utilisation_before = r.maybe_real("utilisation_before", 0, 1);
    p.utilisation_during = r.maybe_real("utilisation_during", 0, 1);
    p.utilisation_after = r.maybe_real("utilisation_after", 0, 1);
    p.normal_late_max_ms = r.maybe_real("normal_late_max_ms", 0, 2 * 3.6e6);  // the window (1 h at most) and after
    p.rtt_before = r.round_trips("rtt_before_ms");
    p.rtt_during = r.round_trips("rtt_during_ms");
    p.error = r.text("error");
    out = std::move(p);
  } else {
    return protocol_error("not a fault event: " + e.type);
  }
  if (r.error) return *r.error;
  return out;
}

std::optional<Loss> loss_of_term(const Term& t) noexcept {
  if (const auto* d = t.as<double>()) return Loss::of_probability(*d);
  if (const auto* i = t.as<std::int64_t>(); i != nullptr && *i == 1) return Loss{};
  return std::nullopt;
}

Term to_term(const Refusal& r) {
  using K = Refusal::Kind;
  const Term name = atom(refusal_name(r.kind));
  switch (r.kind) {
    case K::no_peers:
    case K::not_allowed:
      return name;
    case K::bad_duration:
    case K::bad_loss:
    case K::already_over:
    case K::starts_later_than_max_fault:
    case K::too_many_addresses:
    case K::too_many_peer_hosts:
    case K::too_many_kills:
      return tuple({name, r.n});
    case K::duration_above_max_fault:
    case K::agent_address_limit:
      return tuple({name, r.n, r.m});
    case K::unspecified:
    case K::loopback:
    case K::exempt:
    case K::own_address:
    case K::requester_address:
    case K::duplicate_id:
    case K::backend:
    case K::cannot_resolve_peers:
    case K::unresolvable_requester:
      return tuple({name, bin(r.subject)});
    case K::not_local_node:
    case K::node_not_joined:
    case K::already_paused:
    case K::requester_node:
    case K::already_killed:
    case K::no_start_command:
    case K::already_stressed:
      return tuple({name, atom(r.subject)});
    case K::cannot_pause:
    case K::cannot_kill:
    case K::cannot_stress:
      return tuple({name, atom(r.subject), bin(r.detail)});
    case K::bad_peer:
    case K::peer_block_too_large:
      return tuple({name, bin(r.subject), bin(r.detail)});
    case K::unresolvable_peer:
      return tuple({name, atom(r.subject), bin(r.detail)});
  }
  return name;
}

Term to_term(const FaultStatus& s) {
  const char* state = s.state == FaultStatus::State::pending  ? "pending"
                      : s.state == FaultStatus::State::active ? "active"
                                                              : "recovering";
  return ei::atom_map({{"id", bin(s.id)},
                       {"kind", atom("partition")},
                       {"owner", atom(s.owner)},
                       {"peers", strings(s.peers)},
                       {"addresses", strings(s.addresses.shown)},
                       {"address_count", s.addresses.count},
                       {"direction", atom(direction_name(s.direction))},
                       {"state", atom(state)},
                       {"window_us", tuple({s.window_start_us, s.window_end_us})},
                       {"dropped_packets", s.dropped_packets},
                       {"loss", s.loss.probability()},
                       {"passed_packets", s.passed_packets}});
}

Term to_term(const PauseStatus& s) {
  const char* state = s.state == PauseStatus::State::pending   ? "pending"
                      : s.state == PauseStatus::State::stopped ? "stopped"
                                                               : "resuming";
  return ei::atom_map({{"id", bin(s.id)},
                       {"kind", atom("pause")},
                       {"owner", atom(s.owner)},
                       {"node", atom(s.node)},
                       {"os_pid", s.os_pid},
                       {"state", atom(state)},
                       {"window_us", tuple({s.window_start_us, s.window_end_us})}});
}

Term to_term(const KillStatus& s) {
  const char* state = s.state == KillStatus::State::pending ? "pending"
                      : s.state == KillStatus::State::down  ? "down"
                                                            : "restarting";
  return ei::atom_map({{"id", bin(s.id)},
                       {"kind", atom("kill_node")},
                       {"owner", atom(s.owner)},
                       {"node", atom(s.node)},
                       {"os_pid", s.os_pid},
                       {"state", atom(state)},
                       {"kill_us", s.kill_us},
                       {"restart_us", maybe(s.restart_us)}});
}

Term to_term(const StressStatus& s) {
  const char* state = s.state == StressStatus::State::pending  ? "pending"
                      : s.state == StressStatus::State::active ? "active"
                                                               : "reporting";
  return ei::atom_map({{"id", bin(s.id)},
                       {"kind", atom("stress")},
                       {"owner", atom(s.owner)},
                       {"node", atom(s.node)},
                       {"hogs", s.hogs},
                       {"state", atom(state)},
                       {"window_us", tuple({s.window_start_us, s.window_end_us})}});
}

}  // namespace ticksplit::proto
