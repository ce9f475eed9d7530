#include "common/proto/request.hpp"

#include "common/proto/fault_codec.hpp"

namespace ticksplit::proto {

using ei::atom;
using ei::Term;
using ei::tuple;

namespace {

Term unknown(const Term& t) { return tuple({atom("unknown_request"), t}); }

std::variant<Request, Rejected> pid_request(const std::vector<Term>& items, bool subscribe) {
  const auto* pid = items[1].as<ei::Pid>();
  if (pid == nullptr) return Rejected{tuple({atom("bad_pid"), items[1]})};
  if (subscribe) return SubscribeRequest{*pid};
  return UnsubscribeRequest{*pid};
}

Rejected bad(const char* what, const Term& t) { return Rejected{tuple({atom(what), t})}; }

const Term* map_value(const ei::Map& m, std::string_view key) {
  for (const auto& [k, v] : m.entries)
    if (k.is_atom(key)) return &v;
  return nullptr;
}

// start_at_us and id, which every fault request may have.
std::optional<Rejected> start_and_id(const ei::Map& m, std::optional<std::int64_t>& start_at_us,
                                     std::optional<std::string>& id) {
  if (const Term* s = map_value(m, "start_at_us")) {
    const auto* us = s->as<std::int64_t>();
    if (us == nullptr || *us < 0) return bad("bad_start_at_us", *s);
    start_at_us = *us;
  }
  if (const Term* i = map_value(m, "id")) {
    const auto* b = i->as<ei::Binary>();
    if (b == nullptr || b->bytes.empty() || b->bytes.size() > 128) return bad("bad_id", *i);
    id = b->bytes;
  }
  return std::nullopt;
}

// What every windowed fault request has: duration_ms (required), start_at_us and id.
std::optional<Rejected> timing(const ei::Map& m, std::int64_t& duration_ms, std::optional<std::int64_t>& start_at_us,
                               std::optional<std::string>& id) {
  const Term* duration = map_value(m, "duration_ms");
  const auto* ms = duration != nullptr ? duration->as<std::int64_t>() : nullptr;
  if (ms == nullptr || *ms <= 0) return bad("bad_duration", duration != nullptr ? *duration : atom("missing"));
  duration_ms = *ms;
  return start_and_id(m, start_at_us, id);
}

std::variant<Request, Rejected> partition_request(const Term& spec) {
  const auto* m = spec.as<ei::Map>();
  if (m == nullptr) return bad("spec_not_a_map", spec);
  for (const auto& [k, v] : m->entries)
    if (!(k.is_atom("peers") || k.is_atom("duration_ms") || k.is_atom("direction") || k.is_atom("start_at_us") ||
          k.is_atom("id") || k.is_atom("loss")))
      return bad("unknown_key", k);
  PartitionRequest r;
  const Term* peers = map_value(*m, "peers");
  const auto* list = peers != nullptr ? peers->as<ei::List>() : nullptr;
  if (list == nullptr || list->tail || list->items.empty())
    return bad("bad_peers", peers != nullptr ? *peers : atom("missing"));
  for (const auto& p : list->items) {
    if (const auto* a = p.as<ei::Atom>(); a != nullptr && a->name.find('@') != std::string::npos)
      r.peers.push_back({a->name, true});
    else if (const auto* b = p.as<ei::Binary>(); b != nullptr && !b->bytes.empty())
      r.peers.push_back({b->bytes, false});
    else
      return bad("bad_peer", p);
  }
  if (auto no = timing(*m, r.duration_ms, r.start_at_us, r.id)) return *no;
  if (const Term* d = map_value(*m, "direction")) {
    if (d->is_atom("in"))
      r.direction = Direction::in;
    else if (d->is_atom("out"))
      r.direction = Direction::out;
    else if (d->is_atom("both"))
      r.direction = Direction::both;
    else
      return bad("bad_direction", *d);
  }
  if (const Term* l = map_value(*m, "loss")) {
    const auto loss = loss_of_term(*l);
    if (!loss) return bad("bad_loss", *l);
    r.loss = *loss;
  }
  return r;
}

std::variant<Request, Rejected> pause_request(const Term& spec) {
  const auto* m = spec.as<ei::Map>();
  if (m == nullptr) return bad("spec_not_a_map", spec);
  for (const auto& [k, v] : m->entries)
    if (!(k.is_atom("node") || k.is_atom("duration_ms") || k.is_atom("start_at_us") || k.is_atom("id")))
      return bad("unknown_key", k);
  PauseRequest r;
  const Term* node = map_value(*m, "node");
  const auto* a = node != nullptr ? node->as<ei::Atom>() : nullptr;
  if (a == nullptr || a->name.find('@') == std::string::npos)
    return bad("bad_node", node != nullptr ? *node : atom("missing"));
  r.node = a->name;
  if (auto no = timing(*m, r.duration_ms, r.start_at_us, r.id)) return *no;
  return r;
}

// A node as pause and kill_node name it: an atom with an '@' (the agent checks it is one it joins).
std::optional<Rejected> node_of(const ei::Map& m, std::string& node) {
  const Term* t = map_value(m, "node");
  const auto* a = t != nullptr ? t->as<ei::Atom>() : nullptr;
  if (a == nullptr || a->name.find('@') == std::string::npos) return bad("bad_node", t != nullptr ? *t : atom("missing"));
  node = a->name;
  return std::nullopt;
}

std::variant<Request, Rejected> kill_node_request(const Term& spec) {
  const auto* m = spec.as<ei::Map>();
  if (m == nullptr) return bad("spec_not_a_map", spec);
  for (const auto& [k, v] : m->entries)
    if (!(k.is_atom("node") || k.is_atom("start_at_us") || k.is_atom("id") || k.is_atom("restart_after_ms")))
      return bad("unknown_key", k);
  KillNodeRequest r;
  if (auto no = node_of(*m, r.node)) return *no;
  if (auto no = start_and_id(*m, r.start_at_us, r.id)) return *no;
  if (const Term* t = map_value(*m, "restart_after_ms")) {
    const auto* ms = t->as<std::int64_t>();
    if (ms == nullptr || *ms <= 0) return bad("bad_restart_after", *t);
    r.restart_after_ms = *ms;
  }
  return r;
}

// An Erlang atom holds at most 255 characters; a registered name is one.
constexpr std::size_t kMaxProcessName = 255;

std::variant<Request, Rejected> kill_process_request(const Term& spec) {
  const auto* m = spec.as<ei::Map>();
  if (m == nullptr) return bad("spec_not_a_map", spec);
  for (const auto& [k, v] : m->entries)
    if (!(k.is_atom("node") || k.is_atom("name") || k.is_atom("supervisor") || k.is_atom("start_at_us") ||
          k.is_atom("id") || k.is_atom("restart_window_ms")))
      return bad("unknown_key", k);
  KillProcessRequest r;
  if (auto no = node_of(*m, r.node)) return *no;
  const Term* name = map_value(*m, "name");
  const Term* sup = map_value(*m, "supervisor");
  if ((name == nullptr) == (sup == nullptr))  // exactly one
    return bad("bad_target", name != nullptr ? tuple({*name, *sup}) : atom("missing"));
  const Term& target = name != nullptr ? *name : *sup;
  const auto* t = target.as<ei::Atom>();
  if (t == nullptr || t->name.empty() || t->name.size() > kMaxProcessName || t->name == "undefined")
    return bad("bad_target", target);
  r.target = {name != nullptr ? ProcessTarget::Kind::name : ProcessTarget::Kind::child_of, t->name};
  if (const Term* w = map_value(*m, "restart_window_ms")) {
    const auto* ms = w->as<std::int64_t>();
    if (ms == nullptr || *ms < KillProcessRequest::min_restart_window_ms ||
        *ms > KillProcessRequest::max_restart_window_ms)
      return bad("bad_restart_window", *w);
    r.restart_window_ms = *ms;
  }
  if (auto no = start_and_id(*m, r.start_at_us, r.id)) return *no;
  return r;
}

std::variant<Request, Rejected> stress_request(const Term& spec) {
  const auto* m = spec.as<ei::Map>();
  if (m == nullptr) return bad("spec_not_a_map", spec);
  for (const auto& [k, v] : m->entries)
    if (!(k.is_atom("node") || k.is_atom("duration_ms") || k.is_atom("start_at_us") || k.is_atom("id") ||
          k.is_atom("hogs")))
      return bad("unknown_key", k);
  StressRequest r;
  const Term* node = map_value(*m, "node");
  const auto* a = node != nullptr ? node->as<ei::Atom>() : nullptr;
  if (a == nullptr || a->name.find('@') == std::string::npos)
    return bad("bad_node", node != nullptr ? *node : atom("missing"));
  r.node = a->name;
  if (auto no = timing(*m, r.duration_ms, r.start_at_us, r.id)) return *no;
  if (const Term* h = map_value(*m, "hogs")) {
    const auto* n = h->as<std::int64_t>();
    if (n == nullptr || *n < 1 || *n > StressRequest::max_hogs) return bad("bad_hogs", *h);
    r.hogs = *n;
  }
  return r;
}

}  // namespace

std::variant<Request, Rejected> parse_request(const Term& t) {
  if (t.is_atom("status")) return StatusRequest{};
  if (t.is_atom("heal")) return HealAllRequest{};
  const auto* items = t.tuple_of(2);
  if (items == nullptr) return Rejected{unknown(t)};
  const Term& tag = (*items)[0];
  if (tag.is_atom("subscribe")) return pid_request(*items, true);
  if (tag.is_atom("unsubscribe")) return pid_request(*items, false);
  if (tag.is_atom("events")) {
    const auto* since = (*items)[1].as<std::int64_t>();
    if (since == nullptr || *since < 0) return Rejected{tuple({atom("bad_sequence"), (*items)[1]})};
    return EventsRequest{*since};
  }
  if (tag.is_atom("partition")) return partition_request((*items)[1]);
  if (tag.is_atom("pause")) return pause_request((*items)[1]);
  if (tag.is_atom("kill_node")) return kill_node_request((*items)[1]);
  if (tag.is_atom("kill_process")) return kill_process_request((*items)[1]);
  if (tag.is_atom("stress")) return stress_request((*items)[1]);
  if (tag.is_atom("heal")) {
    const auto* id = (*items)[1].as<ei::Binary>();
    if (id == nullptr) return bad("bad_id", (*items)[1]);
    return HealRequest{id->bytes};
  }
  return Rejected{unknown(t)};
}

Term to_term(const Request& r) {
  struct V {
    Term operator()(const StatusRequest&) const { return atom("status"); }
    Term operator()(const SubscribeRequest& s) const { return tuple({atom("subscribe"), s.pid}); }
    Term operator()(const UnsubscribeRequest& s) const { return tuple({atom("unsubscribe"), s.pid}); }
    Term operator()(const EventsRequest& e) const { return tuple({atom("events"), e.since}); }
    Term operator()(const PartitionRequest& p) const {
      std::vector<Term> peers;
      for (const auto& peer : p.peers) peers.push_back(peer.is_node ? atom(peer.text) : ei::binary(peer.text));
      std::vector<std::pair<Term, Term>> spec{{atom("peers"), ei::list(std::move(peers))},
                                              {atom("duration_ms"), p.duration_ms},
                                              {atom("direction"), atom(direction_name(p.direction))}};
      if (p.start_at_us) spec.emplace_back(atom("start_at_us"), *p.start_at_us);
      if (p.id) spec.emplace_back(atom("id"), ei::binary(*p.id));
      if (!p.loss.total()) spec.emplace_back(atom("loss"), p.loss.probability());
      return tuple({atom("partition"), ei::map(std::move(spec))});
    }
    Term operator()(const PauseRequest& p) const {
      std::vector<std::pair<Term, Term>> spec{{atom("node"), atom(p.node)}, {atom("duration_ms"), p.duration_ms}};
      if (p.start_at_us) spec.emplace_back(atom("start_at_us"), *p.start_at_us);
      if (p.id) spec.emplace_back(atom("id"), ei::binary(*p.id));
      return tuple({atom("pause"), ei::map(std::move(spec))});
    }
    Term operator()(const KillProcessRequest& k) const {
      const bool by_name = k.target.kind == ProcessTarget::Kind::name;
      std::vector<std::pair<Term, Term>> spec{{atom("node"), atom(k.node)},
                                              {atom(by_name ? "name" : "supervisor"), atom(k.target.name)},
                                              {atom("restart_window_ms"), k.restart_window_ms}};
      if (k.start_at_us) spec.emplace_back(atom("start_at_us"), *k.start_at_us);
      if (k.id) spec.emplace_back(atom("id"), ei::binary(*k.id));
      return tuple({atom("kill_process"), ei::map(std::move(spec))});
    }
    Term operator()(const StressRequest& p) const {
      std::vector<std::pair<Term, Term>> spec{{atom("node"), atom(p.node)}, {atom("duration_ms"), p.duration_ms}};
      if (p.start_at_us) spec.emplace_back(atom("start_at_us"), *p.start_at_us);
      if (p.id) spec.emplace_back(atom("id"), ei::binary(*p.id));
      if (p.hogs != StressRequest::default_hogs) spec.emplace_back(atom("hogs"), p.hogs);
      return tuple({atom("stress"), ei::map(std::move(spec))});
    }
    Term operator()(const HealRequest& h) const { return tuple({atom("heal"), ei::binary(h.id)}); }
    Term operator()(const HealAllRequest&) const { return atom("heal"); }
    Term operator()(const KillNodeRequest& k) const {
      std::vector<std::pair<Term, Term>> spec{{atom("node"), atom(k.node)}};
      if (k.start_at_us) spec.emplace_back(atom("start_at_us"), *k.start_at_us);
      if (k.id) spec.emplace_back(atom("id"), ei::binary(*k.id));
      if (k.restart_after_ms) spec.emplace_back(atom("restart_after_ms"), *k.restart_after_ms);
      return tuple({atom("kill_node"), ei::map(std::move(spec))});
    }
  };
  return std::visit(V{}, r);
}

bool is_gen_call(const Term& msg) noexcept {
  const auto* items = msg.tuple_of(3);
  return items != nullptr && (*items)[0].is_atom("$gen_call");
}

Result<GenCall> parse_gen_call(const Term& msg) {
  if (!is_gen_call(msg)) return protocol_error("not a '$gen_call': " + ei::log_text(msg));
  const auto& items = *msg.tuple_of(3);
  const auto* from = items[1].tuple_of(2);
  const ei::Pid* pid = from != nullptr ? (*from)[0].as<ei::Pid>() : nullptr;
  if (pid == nullptr) return protocol_error("'$gen_call' with a bad From: " + ei::log_text(items[1]));
  return GenCall{*pid, (*from)[1], items[2]};
}

Term gen_call_term(const GenCall& c) { return tuple({atom("$gen_call"), tuple({c.from, c.tag}), c.request}); }

Term gen_reply_term(const Term& tag, Term reply) { return tuple({tag, std::move(reply)}); }

}  // namespace ticksplit::proto
