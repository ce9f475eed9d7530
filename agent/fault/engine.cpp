#include "agent/fault/engine.hpp"

#include "common/net/resolve.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace ticksplit::agent::fault {

using proto::Refusal;

namespace {

constexpr std::size_t kFinishedKept = 1024;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::string address_text(const net::Cidr& a) {
  auto text = a.to_string();
  return text.substr(0, text.find('/'));
}
Refusal naming(Refusal::Kind k, const net::Cidr& a) { return Refusal{k, address_text(a), {}, 0, 0}; }
Refusal numbers(Refusal::Kind k, std::int64_t n, std::int64_t m = 0) { return Refusal{k, {}, {}, n, m}; }

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

bool KeyLess::operator()(const bpf::DropKey& a, const bpf::DropKey& b) const noexcept {
  return std::memcmp(&a, &b, sizeof a) < 0;
}

// Saturating: a start_at_us the caller wrote may be anything, and a wrapped result would turn
// a start 584 years ahead into one in the past (it started at once; UBSan flagged INT64_MAX).
// Before boot clamps to 0; past the monotonic clock's range clamps to its maximum, which
// apply() then refuses as starting later than the longest fault.
std::uint64_t unix_to_mono_ns(std::int64_t unix_us, const Clocks& c) noexcept {
  std::int64_t delta_us = 0, delta_ns = 0, ns = 0;
  const bool overflow = __builtin_sub_overflow(unix_us, c.unix_us, &delta_us) ||
                        __builtin_mul_overflow(delta_us, std::int64_t{1000}, &delta_ns) ||
                        __builtin_add_overflow(static_cast<std::int64_t>(c.mono_ns), delta_ns, &ns);
  if (overflow) return unix_us < c.unix_us ? 0 : std::numeric_limits<std::uint64_t>::max();
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

std::int64_t mono_to_unix_us(std::uint64_t mono_ns, const Clocks& c) noexcept {
  // Both sides are monotonic times of this boot (well under 2^63 ns), so the difference fits.
  return c.unix_us + (static_cast<std::int64_t>(mono_ns) - static_cast<std::int64_t>(c.mono_ns)) / 1000;
}

namespace {
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}
}  // namespace

bpf::DropKey drop_key(const net::Cidr& address, bool in) noexcept {
  bpf::DropKey k{};
  const bool v4 = address.family == AF_INET;
  k.kind = static_cast<std::uint32_t>(in ? (v4 ? bpf::Kind::in_v4 : bpf::Kind::in_v6)
                                         : (v4 ? bpf::Kind::out_v4 : bpf::Kind::out_v6));
  std::memcpy(k.addr, address.addr.data(), v4 ? 4 : 16);
  return k;
}

Engine::Engine(Backend& backend, Policy policy, Guards* guards)
    : backend_(backend),
      policy_(std::move(policy)),
      id_suffix_(hex(static_cast<std::uint64_t>(backend.now().unix_us))) {
  if (guards != nullptr) pauses_.emplace(*guards);
}

bool Engine::id_taken(const std::string& id) const {
  return faults_.count(id) != 0 || (pauses_ && pauses_->has(id)) || (kills_ && kills_->has(id));
}

// Generated ids skip whatever a caller already named so (ids are any binary a peer sends, and
// the suffix is visible in events): one id, one fault, across partitions and pauses.
std::string Engine::fresh_id(char kind) {
  std::string id;
  do id = kind + std::to_string(next_id_++) + "-" + id_suffix_;
  while (id_taken(id));
  return id;
}

template <class F>
auto Engine::on_pauses(F&& f) {
  const auto before = pauses_->size();
  struct Moved {  // also when f returns early or throws
    Engine& e;
    std::size_t before;
    ~Moved() {
      if (e.pauses_->size() != before) ++e.generation_;
    }
  } moved{*this, before};
  return f(*pauses_);
}

std::variant<std::string, Refusal> Engine::pause(const PauseSpec& spec, Output& out) {
  if (!pauses_)
    return Refusal{Refusal::Kind::cannot_pause, spec.node, "this agent cannot pause nodes (no guard)", 0, 0};
  tick(out);
  const Clocks c = backend_.now();
  PauseSpec named = spec;
  if (!named.id) named.id = fresh_id('p');
  else if (id_taken(*named.id)) return Refusal{Refusal::Kind::duplicate_id, *named.id, {}, 0, 0};
  return on_pauses([&](Pauses& p) { return p.apply(named, c, policy_.max_fault_ms, out); });
}

std::variant<std::string, Refusal> Engine::kill_node(const KillSpec& spec, Output& out) {
  if (!kills_) return Refusal{Refusal::Kind::cannot_kill, spec.node, "this agent cannot kill nodes (no guard)", 0, 0};
  tick(out);
  KillSpec named = spec;
  if (!named.id) named.id = fresh_id('k');
  else if (id_taken(*named.id)) return Refusal{Refusal::Kind::duplicate_id, *named.id, {}, 0, 0};
  return kills_->apply(named, backend_.now(), policy_.max_fault_ms);
}

std::vector<proto::KillStatus> Engine::kill_status() const {
  return kills_ ? kills_->status(backend_.now()) : std::vector<proto::KillStatus>{};
}

std::vector<PauseStatus> Engine::pause_status() const {
  return pauses_ ? pauses_->status(backend_.now()) : std::vector<PauseStatus>{};
}

std::optional<Refusal> Engine::refuse(const FaultSpec& spec) const {
  using K = Refusal::Kind;
  if (spec.duration_ms <= 0) return numbers(K::bad_duration, spec.duration_ms);
  if (spec.loss.ppm == 0 || spec.loss.ppm > proto::Loss::total_ppm) return numbers(K::bad_loss, spec.loss.ppm);
  if (spec.duration_ms > policy_.max_fault_ms)
    return numbers(K::duration_above_max_fault, spec.duration_ms, policy_.max_fault_ms);
  if (spec.addresses.empty()) return Refusal{K::no_peers, {}, {}, 0, 0};
  const auto inside = [](const std::vector<net::Cidr>& blocks, const net::Cidr& a) {
    return std::any_of(blocks.begin(), blocks.end(), [&](const net::Cidr& b) { return b.contains(a); });
  };
  for (const auto& a : spec.addresses) {
    if (net::is_unspecified(a)) return naming(K::unspecified, a);
    if (net::is_loopback(a)) return naming(K::loopback, a);
    if (inside(policy_.exempt, a)) return naming(K::exempt, a);
    if (inside(policy_.local, a)) return naming(K::own_address, a);
    if (inside(spec.owner_addresses, a)) return naming(K::requester_address, a);
  }
  if (spec.id && id_taken(*spec.id)) return Refusal{K::duplicate_id, *spec.id, {}, 0, 0};
  return std::nullopt;
}

std::variant<std::string, Refusal> Engine::apply(const FaultSpec& spec, Output& out) {
  if (auto why = refuse(spec)) return *why;
  const Clocks c = backend_.now();
  const std::uint64_t requested = spec.start_at_us ? unix_to_mono_ns(*spec.start_at_us, c) : c.mono_ns;
  // duration_ms and max_fault_ms are bounded by refuse() and the options, so only the sums
  // with a caller's start can overflow.
  const std::uint64_t end = saturating_add(requested, static_cast<std::uint64_t>(spec.duration_ms) * 1'000'000);
  if (end <= c.mono_ns) return numbers(Refusal::Kind::already_over, *spec.start_at_us);
  if (requested > saturating_add(c.mono_ns, static_cast<std::uint64_t>(policy_.max_fault_ms) * 1'000'000))
    return numbers(Refusal::Kind::starts_later_than_max_fault, *spec.start_at_us);
  tick(out);  // so that what is due is not mistaken for what is current

  Fault f;
  f.id = spec.id ? *spec.id : fresh_id('f');
  f.owner = spec.owner;
  f.peers = spec.peers;
  f.direction = spec.direction;
  f.loss = spec.loss;
  f.window = {std::max(requested, c.mono_ns), end};
  // In unix time once, so that the ledger does not see the two clocks' jitter as a change.
  f.planned_us = {mono_to_unix_us(f.window.start_ns, c), mono_to_unix_us(f.window.end_ns, c)};
  const bool in = spec.direction != proto::Direction::out;
  const bool out_too = spec.direction != proto::Direction::in;
  for (const auto& a : spec.addresses) {
    auto text = a.to_string();
    text = text.substr(0, text.find('/'));
    for (bool dir_in : {true, false}) {
      if ((dir_in && !in) || (!dir_in && !out_too)) continue;
      Cut cut;
      cut.key = drop_key(a, dir_in);
      cut.address = text;
      cut.counts_for_recovery = dir_in == in;
      if (f.cut_index.emplace(cut.key, f.cuts.size()).second) f.cuts.push_back(cut);
    }
  }
  // Refused before any entry is written when the map could not hold it (it would fail midway
  // with E2BIG, and be undone).
  const auto fresh = static_cast<std::size_t>(
      std::count_if(f.cuts.begin(), f.cuts.end(), [&](const Cut& cut) { return keys_.count(cut.key) == 0; }));
  if (keys_.size() + fresh > policy_.max_map_entries)
    return numbers(Refusal::Kind::agent_address_limit, static_cast<std::int64_t>(fresh),
                   static_cast<std::int64_t>(policy_.max_map_entries - keys_.size()));
  const std::string id = f.id;
  auto [placed, fresh_entry] = faults_.try_emplace(id, std::move(f));
  if (!fresh_entry) return Refusal{Refusal::Kind::duplicate_id, id, {}, 0, 0};  // refuse() and fresh_id() rule it out
  auto& stored = placed->second;
  for (auto& cut : stored.cuts) {
    auto& entry = keys_[cut.key];
    entry.faults.insert(id);
    // The fault's evidence counts from here (or from its own stretch, see sync): what the
    // entry dropped before was another fault's.
    auto v = read(cut.key);
    Status s = v ? sync(cut.key, c.mono_ns, &*v) : Status(v.error());
    if (!s) {  // undo: nothing of a refused fault stays in the map
      Refusal reason{Refusal::Kind::backend, s.error().message, {}, 0, 0};
      std::vector<bpf::DropKey> touched;
      for (const auto& t : stored.cuts) touched.push_back(t.key);
      release(id, out);
      finished_.erase(id);
      for (const auto& k : touched)
        if (keys_.count(k)) (void)sync(k, c.mono_ns);
      return reason;
    }
    set_base(cut, *v);
  }
  ++generation_;
  if (stored.window.start_ns <= c.mono_ns) start(stored, c, out);
  return id;
}

Engine::Healed Engine::heal(const std::string& id, Output& out) {
  tick(out);
  if (pauses_ && pauses_->has(id)) {
    on_pauses([&](Pauses& p) { p.heal(id, HealReason::request, backend_.now(), out); });
    return Healed::now;
  }
  if (kills_ && kills_->has(id)) {
    kills_->heal(id, HealReason::request, backend_.now(), out);
    return Healed::now;
  }
  auto it = faults_.find(id);
  if (it == faults_.end())
    return finished_.count(id) || (pauses_ && pauses_->ended(id)) || (kills_ && kills_->ended(id)) ? Healed::already
                                                                                                  : Healed::not_found;
  if (it->second.state == Fault::State::recovering) return Healed::already;
  heal_fault(it->second, HealReason::request, backend_.now(), out);
  return Healed::now;
}

std::size_t Engine::heal_all(HealReason why, Output& out) {
  const auto paused = pauses_ ? on_pauses([&](Pauses& p) {
    return p.heal_where([](const std::string&) { return true; }, why, backend_.now(), out);
  })
                              : 0;
  const auto killed =
      kills_ ? kills_->heal_where([](const std::string&) { return true; }, why, backend_.now(), out) : 0;
  return paused + killed + heal_where([](const Fault&) { return true; }, why, out);
}

std::size_t Engine::heal_owner(const std::string& node, Output& out) {
  const auto paused = pauses_ ? on_pauses([&](Pauses& p) {
    return p.heal_where([&](const std::string& owner) { return owner == node; }, HealReason::owner_gone,
                        backend_.now(), out);
  })
                              : 0;
  const auto killed = kills_ ? kills_->heal_where([&](const std::string& owner) { return owner == node; },
                                                  HealReason::owner_gone, backend_.now(), out)
                            : 0;
  return paused + killed + heal_where([&](const Fault& f) { return f.owner == node; }, HealReason::owner_gone, out);
}

std::size_t Engine::heal_where(const std::function<bool(const Fault&)>& which, HealReason why, Output& out) {
  tick(out);
  const Clocks c = backend_.now();
  std::vector<std::string> ids;
  for (const auto& [id, f] : faults_)
    if (f.state != Fault::State::recovering && which(f)) ids.push_back(id);
  // healing a fault that never started releases it, so look each one up again
  for (const auto& id : ids)
    if (auto it = faults_.find(id); it != faults_.end()) heal_fault(it->second, why, c, out);
  return ids.size();
}

void Engine::tick(Output& out) {
  const Clocks c = backend_.now();
  if (pauses_) on_pauses([&](Pauses& p) { p.tick(c, out); });
  if (kills_) kills_->tick(c, out);
  std::vector<std::string> ids;
  for (const auto& [id, f] : faults_) ids.push_back(id);
  // In time order per fault: start, then deadline, then recovery.
  for (const auto& id : ids) {
    auto it = faults_.find(id);
    if (it == faults_.end()) continue;
    Fault& f = it->second;
    if (f.state == Fault::State::pending && f.window.start_ns <= c.mono_ns) start(f, c, out);
    if (f.state == Fault::State::active && f.window.end_ns <= c.mono_ns) heal_fault(f, HealReason::deadline, c, out);
  }
  for (const auto& id : ids) {
    auto it = faults_.find(id);
    if (it != faults_.end() && it->second.state == Fault::State::recovering) check_recovery(it->second, c, out);
  }
  // An entry's stretch ends with the deadline of a fault in it; healing that fault (above)
  // synced the entry and wrote the next stretch, if any.
}

std::optional<std::uint64_t> Engine::next_due_ns() const {
  std::optional<std::uint64_t> next = pauses_ ? pauses_->next_due_ns() : std::nullopt;
  const auto consider = [&](std::uint64_t t) { next = next ? std::min(*next, t) : t; };
  if (const auto k = kills_ ? kills_->next_due_ns() : std::nullopt) consider(*k);
  for (const auto& [id, f] : faults_) {
    if (f.state == Fault::State::pending) consider(f.window.start_ns);
    if (f.state == Fault::State::active) consider(f.window.end_ns);
    if (f.state == Fault::State::recovering) consider(std::min(f.next_poll_ns, f.recovery_deadline_ns));
  }
  return next;
}

void Engine::set_base(Cut& cut, const bpf::DropValue& v) {
  cut.base_packets = v.dropped_packets;
  cut.base_bytes = v.dropped_bytes;
  cut.base_passed = v.passed_packets;
}

// The union of the windows of the entry's faults not yet healed, cut into pieces where the
// largest loss among the faults covering it changes (a sweep over their starts and ends: a
// hostile peer may be in many faults). What the entry holds is the piece that contains now_ns
// or comes next, carried on through the pieces after it as long as their loss is not lower:
// where a stronger fault begins, the weaker stretch goes on under it until the engine writes
// the stronger one (at that fault's start), so that a late or dead engine never leaves a hole
// there nor ends a running fault early. Where the loss falls, the stretch must end: the next
// is written when it is due (the hole is the engine's wake-up, docs/faults.md).
std::optional<Engine::Stretch> Engine::wanted(const Entry& entry, std::uint64_t now_ns) const {
  struct Edge {
    std::uint64_t at;
    bool opens;
    std::uint32_t ppm;
  };
  std::vector<Edge> edges;
  for (const auto& id : entry.faults)
    if (const auto& f = faults_.at(id); f.state != Fault::State::recovering) {
      edges.push_back({f.window.start_ns, true, f.loss.ppm});
      edges.push_back({f.window.end_ns, false, f.loss.ppm});
    }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.at < b.at; });
  std::vector<Stretch> pieces;  // contiguous pieces of one loss merged
  std::multiset<std::uint32_t> open;
  for (std::size_t i = 0; i < edges.size();) {
    const std::uint64_t at = edges[i].at;
    for (; i < edges.size() && edges[i].at == at; ++i) {
      if (edges[i].opens)
        open.insert(edges[i].ppm);
      else
        open.erase(open.find(edges[i].ppm));
    }
    if (open.empty() || i == edges.size()) continue;
    const Stretch piece{{at, edges[i].at}, proto::Loss{*open.rbegin()}};
    if (!pieces.empty() && pieces.back().window.end_ns == at && pieces.back().loss == piece.loss)
      pieces.back().window.end_ns = piece.window.end_ns;
    else
      pieces.push_back(piece);
  }
  auto it = std::find_if(pieces.begin(), pieces.end(), [&](const Stretch& p) { return p.window.end_ns > now_ns; });
  if (it == pieces.end()) return std::nullopt;
  Stretch want = *it;
  for (++it; it != pieces.end() && it->window.start_ns == want.window.end_ns && it->loss >= want.loss; ++it)
    want.window.end_ns = it->window.end_ns;
  return want;
}

// Writes the entry's stretch (wanted() above); with no fault left in it, the written window
// closed at now.
Status Engine::sync(const bpf::DropKey& key, std::uint64_t now_ns, const bpf::DropValue* known) {
  auto& entry = keys_.at(key);
  std::optional<Stretch> want = wanted(entry, now_ns);
  if (!want) {
    want = entry.written;
    auto& w = want->window;
    if (w.start_ns >= now_ns)
      w = {};  // never began
    else
      w.end_ns = std::min(w.end_ns, std::max(now_ns, w.start_ns));  // ends now
  }
  if (*want == entry.written) return success();
  auto v = known != nullptr ? Result<bpf::DropValue>(*known) : read(key);
  if (!v) return v.error();
  const Window& was = entry.written.window;
  if (was.end_ns <= now_ns && want->window.start_ns > was.end_ns) {
    // A stretch after a gap starts fresh evidence (cumulative counts stay). Healed faults
    // still waiting for traffic on this entry can no longer see it come back here.
    v->first_drop_ns = v->last_drop_ns = v->first_pass_after_ns = 0;
    for (const auto& id : entry.faults) {
      auto& f = faults_.at(id);
      Cut* cut = f.cut_for(key);
      if (cut == nullptr) continue;
      if (f.state == Fault::State::recovering && cut->passed_ns == 0) cut->superseded = true;
      if (f.state == Fault::State::pending) set_base(*cut, *v);
    }
  } else if (was.end_ns <= now_ns) {
    // The run goes on in a stretch of another loss: a packet the kernel let through between
    // the two, before this write, is not traffic coming back.
    v->first_pass_after_ns = 0;
  }
  v->start_ns = want->window.start_ns;
  v->end_ns = want->window.end_ns;
  v->drop_below = bpf::drop_below_of_ppm(want->loss.ppm);
  if (auto s = backend_.write(key, *v); !s) return s;
  entry.written = *want;
  return success();
}

Result<bpf::DropValue> Engine::read(const bpf::DropKey& key) {
  auto v = backend_.read(key);
  if (!v) return v.error();
  const bpf::DropValue value = v->value_or(bpf::DropValue{});
  harvest(key, value);
  return value;
}

// Every read is a chance to learn when traffic came back for the healed faults on the entry.
void Engine::harvest(const bpf::DropKey& key, const bpf::DropValue& v) {
  if (v.first_pass_after_ns == 0) return;
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  for (const auto& id : it->second.faults) {
    auto& f = faults_.at(id);
    if (f.state != Fault::State::recovering || v.first_pass_after_ns < f.window.end_ns) continue;
    if (Cut* cut = f.cut_for(key); cut != nullptr && cut->passed_ns == 0) cut->passed_ns = v.first_pass_after_ns;
  }
}

Engine::Evidence Engine::evidence(Fault& f, Output& out) {
  Evidence e;
  for (const auto& cut : f.cuts) {
    auto v = read(cut.key);
    if (!v) {
      out.problems.push_back("reading the evidence of fault " + f.id + ": " + v.error().message);
      continue;
    }
    e.passed += v->passed_packets - cut.base_passed;
    const std::uint64_t packets = v->dropped_packets - cut.base_packets;
    if (packets == 0) continue;
    e.packets += packets;
    e.bytes += v->dropped_bytes - cut.base_bytes;
    // Joining a peer that another fault was already dropping: its first drop predates us.
    const std::uint64_t first = std::max(v->first_drop_ns, f.window.start_ns);
    e.first_ns = e.first_ns == 0 ? first : std::min(e.first_ns, first);
    e.last_ns = std::max(e.last_ns, v->last_drop_ns);
  }
  return e;
}

// A fault's addresses as events and status show them: the first max_listed_addresses, and
// how many there are. A fault may hold 16,384; listing them all made a status reply of 65,536
// addresses 7.3 MB, above what one packet may carry.
proto::AddressList Engine::listed_addresses(const Fault& f) {
  proto::AddressList list;
  for (const auto& cut : f.cuts) {
    if (!cut.counts_for_recovery) continue;
    if (++list.count <= static_cast<std::int64_t>(max_listed_addresses)) list.shown.push_back(cut.address);
  }
  return list;
}

void Engine::start(Fault& f, const Clocks& c, Output& out) {
  f.state = Fault::State::active;
  // On an entry other faults use, this fault's evidence counts from now, and a fault with
  // another loss may begin a new stretch.
  for (auto& cut : f.cuts) {
    if (keys_.at(cut.key).faults.size() < 2) continue;
    auto v = read(cut.key);
    if (!v) {
      out.problems.push_back("starting fault " + f.id + ": " + v.error().message);
      continue;
    }
    set_base(cut, *v);
    if (auto s = sync(cut.key, c.mono_ns, &*v); !s)
      out.problems.push_back("starting fault " + f.id + " (its stretch ends at the one before's end): " +
                             s.error().message);
  }
  out.events.push_back({c.unix_us, proto::FaultStarted{f.id, f.peers, listed_addresses(f), f.direction, f.owner,
                                                       mono_to_unix_us(f.window.start_ns, c),
                                                       mono_to_unix_us(f.window.end_ns, c), f.loss}});
}

void Engine::heal_fault(Fault& f, HealReason why, const Clocks& c, Output& out) {
  ++generation_;
  const bool started = f.state == Fault::State::active;
  f.window.end_ns = started ? std::min(f.window.end_ns, c.mono_ns) : f.window.start_ns;
  f.state = Fault::State::recovering;
  for (const auto& cut : f.cuts)
    if (auto s = sync(cut.key, c.mono_ns); !s)  // the kernel still ends it at the old deadline
      out.problems.push_back("healing fault " + f.id + " early: " + s.error().message);
  const Evidence ev = evidence(f, out);
  const auto at = [&](std::uint64_t ns) {
    return ns == 0 ? std::nullopt : std::optional<std::int64_t>(mono_to_unix_us(ns, c));
  };
  out.events.push_back(
      {c.unix_us, proto::FaultHealed{f.id, f.peers, why, started, mono_to_unix_us(f.window.start_ns, c),
                                     mono_to_unix_us(f.window.end_ns, c),
                                     proto::Evidence{i64(ev.packets), i64(ev.bytes), at(ev.first_ns), at(ev.last_ns), i64(ev.passed)}}});
  if (!started) return release(f.id, out);
  f.recovery_deadline_ns = c.mono_ns + recovery_timeout_ns_;
  f.next_poll_ns = c.mono_ns;  // traffic may already be back
}

void Engine::check_recovery(Fault& f, const Clocks& c, Output& out) {
  const bool timed_out = c.mono_ns >= f.recovery_deadline_ns;
  if (c.mono_ns < f.next_poll_ns && !timed_out) return;
  bool all = true;
  std::uint64_t reads = 0;
  for (const auto& cut : f.cuts) {
    if (!cut.counts_for_recovery || cut.passed_ns != 0) continue;
    if (cut.superseded) {
      all = false;
      continue;
    }
    ++reads;
    if (auto v = read(cut.key); !v) out.problems.push_back("reading fault " + f.id + ": " + v.error().message);
    all = all && cut.passed_ns != 0;
  }
  const bool waiting = std::any_of(f.cuts.begin(), f.cuts.end(), [](const Cut& x) {
    return x.counts_for_recovery && x.passed_ns == 0 && !x.superseded;
  });
  if (waiting && !timed_out) {
    // Polling less often the more entries it reads keeps the loop's share small (16,384
    // silent peers cost ~16 ms a poll). Only when recovery is noticed changes: the kernel
    // stamps the first packet that passed, so the measured outage does not.
    f.next_poll_ns = c.mono_ns + std::max(recovery_poll_ns, reads * recovery_poll_ns_per_read);
    return;
  }
  // Per peer address: the window start until its first packet passed.
  proto::FaultRecovered r{f.id, f.peers, all, std::nullopt, {}, 0};
  std::uint64_t largest = 0;
  for (const auto& cut : f.cuts) {
    if (!cut.counts_for_recovery) continue;
    std::optional<std::int64_t> outage;
    if (cut.passed_ns != 0) {
      largest = std::max(largest, cut.passed_ns - f.window.start_ns);
      outage = i64((cut.passed_ns - f.window.start_ns) / 1000);
    }
    if (++r.address_count > static_cast<std::int64_t>(max_listed_addresses)) continue;  // listed: the first ones
    r.per_peer.push_back({cut.address, outage, cut.passed_ns != 0});
  }
  if (largest != 0) r.effective_outage_us = i64(largest / 1000);
  out.events.push_back({c.unix_us, std::move(r)});
  release(f.id, out);
}

void Engine::release(std::string id, Output& out) {  // by value: it may be the fault's own, erased below
  ++generation_;
  auto it = faults_.find(id);
  if (it == faults_.end()) return;
  for (const auto& cut : it->second.cuts) {
    auto k = keys_.find(cut.key);
    if (k == keys_.end()) continue;
    k->second.faults.erase(id);
    if (!k->second.faults.empty()) continue;
    if (auto s = backend_.erase(cut.key); !s) out.problems.push_back("removing a drop entry: " + s.error().message);
    keys_.erase(k);
  }
  faults_.erase(it);
  if (finished_.size() >= kFinishedKept) finished_.clear();
  finished_.insert(id);
}

std::vector<Planned> Engine::planned() const {
  std::vector<Planned> out;
  for (const auto& [id, f] : faults_)
    if (f.state != Fault::State::recovering)  // a recovering fault's window is over
      out.push_back({id, f.owner, f.peers, f.planned_us.first, f.planned_us.second, std::nullopt});
  if (pauses_) pauses_->planned(out);
  return out;
}

std::vector<proto::FaultStatus> Engine::status(Output& out) {
  const Clocks c = backend_.now();
  std::vector<proto::FaultStatus> all;
  for (auto& [id, f] : faults_) {
    std::uint64_t packets = 0, passed = 0;
    for (const auto& cut : f.cuts) {
      if (auto v = read(cut.key)) {
        packets += v->dropped_packets - cut.base_packets;
        passed += v->passed_packets - cut.base_passed;
      } else
        out.problems.push_back("reading fault " + id + ": " + v.error().message);
    }
    const auto state = f.state == Fault::State::pending  ? proto::FaultStatus::State::pending
                       : f.state == Fault::State::active ? proto::FaultStatus::State::active
                                                         : proto::FaultStatus::State::recovering;
    all.push_back({id, f.owner, f.peers, listed_addresses(f), f.direction, state,
                   mono_to_unix_us(f.window.start_ns, c), mono_to_unix_us(f.window.end_ns, c), i64(packets), f.loss,
                   i64(passed)});
  }
  return all;
}

}  // namespace ticksplit::agent::fault
