#include "agent/watcher_report.hpp"

#include <algorithm>

namespace ticksplit::agent::watcher {

using ei::Term;

namespace {

constexpr std::size_t kMaxKind = 64;
constexpr std::int64_t kMaxUs = std::int64_t{1} << 62;  // a unix µs far past any real one

// Printable ASCII, cut to `max` bytes: what a node sends may be anything, and it ends up in
// logs and JSON.
std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  out.reserve(std::min(bytes.size(), max));
  for (char c : bytes.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

struct Props {
  const FaultReport& r;
  std::optional<Error> error;

  void bad(const char* key) {
    if (!error) error = protocol_error("fault report " + r.kind + " with a bad " + key + ": " + ei::log_text(*r.prop(key)));
  }
  void missing(const char* key) {
    if (!error) error = protocol_error("fault report " + r.kind + " without " + key);
  }
  // A binary (or, for the undefined-able ones, `undefined`), made printable and cut.
  std::optional<std::string> text(const char* key, std::size_t max, bool required) {
    const Term* t = r.prop(key);
    if (t == nullptr) {
      if (required) missing(key);
      return std::nullopt;
    }
    if (const auto* b = t->as<ei::Binary>()) return printable(b->bytes, max);
    if (!t->is_atom("undefined")) bad(key);
    return std::nullopt;
  }
  std::optional<std::int64_t> time(const char* key) {
    const Term* t = r.prop(key);
    if (t == nullptr) {
      missing(key);
      return std::nullopt;
    }
    if (const auto* i = t->as<std::int64_t>(); i != nullptr && *i > 0 && *i < kMaxUs) return *i;
    if (!t->is_atom("undefined")) bad(key);
    return std::nullopt;
  }
  bool flag(const char* key) {
    const Term* t = r.prop(key);
    if (t == nullptr) missing(key);
    else if (!t->is_atom("true") && !t->is_atom("false")) bad(key);
    return t != nullptr && t->is_atom("true");
  }
};

}  // namespace

const Term* FaultReport::prop(std::string_view key) const noexcept {
  for (const auto& [k, v] : props)
    if (k == key) return &v;
  return nullptr;
}

bool is_fault_report(const Term& msg) noexcept {
  const auto* t = msg.tuple_of(6);
  return t != nullptr && (*t)[0].is_atom("ticksplit_watcher") && (*t)[2].is_atom("fault");
}

Result<FaultReport> fault_report_from(const Term& msg) {
  if (!is_fault_report(msg)) return protocol_error("not a fault report");
  const auto& t = *msg.tuple_of(6);
  const auto malformed = [&msg](const char* what) {
    return protocol_error(std::string("malformed fault report (") + what + "): " + ei::log_text(msg));
  };
  const auto* observer = t[1].as<ei::Atom>();
  const auto* kind = t[3].as<ei::Atom>();
  const auto* id = t[4].as<ei::Binary>();
  const auto* props = t[5].as<ei::List>();
  if (observer == nullptr) return malformed("observer");
  if (kind == nullptr || kind->name.empty() || kind->name.size() > kMaxKind) return malformed("kind");
  if (id == nullptr || id->bytes.empty() || id->bytes.size() > max_report_id) return malformed("id");
  if (props == nullptr || props->tail || props->items.size() > max_report_props) return malformed("props");
  FaultReport r{observer->name, kind->name, id->bytes, {}};
  for (const auto& item : props->items) {
    const auto* kv = item.tuple_of(2);
    const auto* key = kv != nullptr ? (*kv)[0].as<ei::Atom>() : nullptr;
    if (key == nullptr || key->name.size() > kMaxKind) return malformed("a prop is not {atom, term}");
    if (r.prop(key->name) != nullptr) return malformed("a prop twice");
    r.props.emplace_back(key->name, (*kv)[1]);
  }
  return r;
}

Result<KillSeen> kill_seen_from(const FaultReport& r) {
  Props p{r, std::nullopt};
  KillSeen k;
  k.child_id = p.text("child_id", max_report_short, false).value_or("");
  k.pid = p.text("pid", max_report_short, true);
  k.killed_us = p.time("killed_us");
  k.restarted = p.flag("restarted");
  k.new_pid = p.text("new_pid", max_report_short, true);
  k.restarted_us = p.time("restarted_us");
  k.error = p.text("error", max_report_text, true).value_or("");
  if (p.error) return *p.error;
  // What a report must say to be believed: a kill with its pid and instant, or why none; a
  // restart with its pid and instant, never before the kill.
  if (k.error.empty() && (!k.pid || !k.killed_us))
    return protocol_error("fault report process_killed: no error, but no pid or killed_us");
  if (k.restarted != (k.new_pid.has_value() && k.restarted_us.has_value()) ||
      (k.restarted && (!k.killed_us || *k.restarted_us < *k.killed_us)))
    return protocol_error("fault report process_killed: restarted, new_pid and restarted_us disagree");
  return k;
}

std::string rejected_error(const FaultReport& r) {
  const Term* e = r.prop("error");
  const auto* b = e != nullptr ? e->as<ei::Binary>() : nullptr;
  return "the watcher rejected the command: " + (b != nullptr ? printable(b->bytes, max_report_text) : std::string("?"));
}

}  // namespace ticksplit::agent::watcher
