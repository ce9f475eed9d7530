#include "agent/watcher.hpp"

extern const std::uint8_t ticksplit_watcher_beam[];
extern const std::size_t ticksplit_watcher_beam_size;
extern const std::uint8_t ticksplit_watcher_md5[];
extern const std::size_t ticksplit_watcher_md5_size;

namespace ticksplit::agent::watcher {

using ei::atom;
using ei::Term;

namespace {
constexpr const char* kModule = "ticksplit_watcher";

// The value of `key` in an Erlang proplist such as [{nodedown_reason, R}, {node_type, T}].
const Term* prop(const Term& list, std::string_view key) {
  const auto* l = list.as<ei::List>();
  if (l == nullptr) return nullptr;
  for (const auto& item : l->items)
    if (const auto* kv = item.tuple_of(2); kv != nullptr && (*kv)[0].is_atom(key)) return &(*kv)[1];
  return nullptr;
}
// `bytes` with every byte that does not start a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF) replaced by '?'.
std::string valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto at = [&bytes](std::size_t i) { return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0u; };
  const auto cont = [](unsigned c, unsigned lo = 0x80, unsigned hi = 0xBF) { return c >= lo && c <= hi; };
  for (std::size_t i = 0; i < bytes.size();) {
    const unsigned c = at(i);
    std::size_t n = 0;
    if (c < 0x80) n = 1;
    else if (c >= 0xC2 && c <= 0xDF && cont(at(i + 1))) n = 2;
    else if (c == 0xE0 && cont(at(i + 1), 0xA0) && cont(at(i + 2))) n = 3;
    else if (((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && cont(at(i + 1)) && cont(at(i + 2))) n = 3;
    else if (c == 0xED && cont(at(i + 1), 0x80, 0x9F) && cont(at(i + 2))) n = 3;
    else if (c == 0xF0 && cont(at(i + 1), 0x90) && cont(at(i + 2)) && cont(at(i + 3))) n = 4;
    else if (c >= 0xF1 && c <= 0xF3 && cont(at(i + 1)) && cont(at(i + 2)) && cont(at(i + 3))) n = 4;
    else if (c == 0xF4 && cont(at(i + 1), 0x80, 0x8F) && cont(at(i + 2)) && cont(at(i + 3))) n = 4;
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

// {ticksplit_watcher, Node, log, Level, [{time_us, T}, {text, Text}, {dropped, N}]}: a node's
// own log line, checked as any input (the text made valid UTF-8 and cut again at a character
// boundary, here).
Result<proto::Event> log_event(const Term& node, const Term& level, const Term& info, const Term& msg) {
  const auto* time = prop(info, "time_us") != nullptr ? prop(info, "time_us")->as<std::int64_t>() : nullptr;
  const auto* text = prop(info, "text") != nullptr ? prop(info, "text")->as<ei::Binary>() : nullptr;
  const auto* dropped = prop(info, "dropped") != nullptr ? prop(info, "dropped")->as<std::int64_t>() : nullptr;
  const auto* lv = level.as<ei::Atom>();
  if (!node.is<ei::Atom>() || lv == nullptr || !is_logger_level(lv->name) || time == nullptr || *time <= 0 ||
      text == nullptr || dropped == nullptr || *dropped < 0)
    return Error{Domain::protocol, 0, "malformed watcher log message: " + ei::log_text(msg)};
  // Valid UTF-8 (what the node sent may not be), then cut at a character boundary.
  std::string cut = valid_utf8(text->bytes.substr(0, max_log_text + 4));
  if (cut.size() > max_log_text) {
    std::size_t end = max_log_text;
    while (end > 0 && (static_cast<unsigned char>(cut[end]) & 0xC0) == 0x80) --end;
    cut.resize(end);
  }
  proto::Event e{0, "log", *time, {}};
  e.fields = {{"node", node}, {"level", level}, {"message", ei::binary(std::move(cut))}, {"dropped", *dropped}};
  return e;
}

}  // namespace

std::span<const std::uint8_t> beam() { return {ticksplit_watcher_beam, ticksplit_watcher_beam_size}; }
std::span<const std::uint8_t> beam_md5() { return {ticksplit_watcher_md5, ticksplit_watcher_md5_size}; }

Call call_for(Step step, const std::string& agent_node, const std::string& agent_name, const std::string& forward_logs) {
  switch (step) {
    case Step::check_loaded:
      return {"erlang", "get_module_info", ei::list({atom(kModule), atom("md5")})};
    case Step::purge:
      // load_binary refuses to load while old code of the module still exists
      return {"code", "purge", ei::list({atom(kModule)})};
    case Step::load: {
      const auto b = beam();
      std::vector<Term> file;  // load_binary wants a file name as a string; it is only recorded
      for (char c : std::string("ticksplit_watcher.beam")) file.emplace_back(std::int64_t{c});
      return {"code", "load_binary",
              ei::list({atom(kModule), ei::list(std::move(file)), ei::binary(std::string(b.begin(), b.end()))})};
    }
    case Step::start:
      break;
  }
  return {kModule, "start", ei::list({atom(agent_node), atom(agent_name), atom(forward_logs)})};
}

Result<Next> on_reply(Step step, const Term& reply) {
  const auto failed = [&](const char* what) {
    return protocol_error(std::string(what) + " failed: " + ei::log_text(reply));
  };
  const auto* pair = reply.tuple_of(2);
  const bool badrpc = pair != nullptr && (*pair)[0].is_atom("badrpc");
  switch (step) {
    case Step::check_loaded: {
      // badarg (not loaded) comes back as badrpc: load it
      const auto md5 = beam_md5();
      const auto* loaded = reply.as<ei::Binary>();
      const bool same = loaded != nullptr && loaded->bytes == std::string(md5.begin(), md5.end());
      return Next{same ? Step::start : Step::purge, std::nullopt};
    }
    case Step::purge:
      if (badrpc) return failed("code:purge");
      return Next{Step::load, std::nullopt};  // true or false: both fine
    case Step::load:
      if (pair != nullptr && (*pair)[0].is_atom("module") && (*pair)[1].is_atom(kModule))
        return Next{Step::start, std::nullopt};
      return failed("code:load_binary");
    case Step::start:
      if (const auto* t = reply.tuple_of(5); t != nullptr && (*t)[0].is_atom("ok")) {
        const auto* tick = (*t)[2].as<std::int64_t>();
        const auto* intensity = (*t)[3].as<std::int64_t>();
        const auto* pid = (*t)[4].as<std::int64_t>();
        // pid_max is at most 2^22 (4,194,304): anything else is not a pid. The join does not
        // depend on it (only pauses do, and the agent checks the process before it holds it).
        std::optional<std::int64_t> os_pid;
        if (pid != nullptr && *pid >= 1 && *pid <= (std::int64_t{1} << 22)) os_pid = *pid;
        // The watcher's pid, to send it commands; one of another node is not our watcher.
        std::optional<ei::Pid> self;
        if (const auto* w = (*t)[1].as<ei::Pid>()) self = *w;
        if (tick != nullptr && intensity != nullptr && *tick > 0 && *intensity > 0)
          return Next{std::nullopt, Started{*tick * 1000, *intensity, os_pid, self}};
      }
      return failed("ticksplit_watcher:start");
  }
  return failed("unknown step");
}

bool is_logger_level(std::string_view level) noexcept {
  for (const char* l : {"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"})
    if (level == l) return true;
  return false;
}

std::optional<std::string> observer_of(const Term& msg) {
  const auto* t = msg.tuple_of(5);
  if (t == nullptr) return std::nullopt;
  if (const auto* a = (*t)[1].as<ei::Atom>()) return a->name;
  return std::nullopt;
}

bool is_watcher_message(const Term& msg) noexcept {
  const auto* t = msg.tuple_of(5);
  return t != nullptr && (*t)[0].is_atom(kModule);
}

Result<proto::Event> to_event(const Term& msg) {
  const auto* t = msg.tuple_of(5);
  if (t == nullptr || !(*t)[0].is_atom(kModule)) return protocol_error("not a watcher message");
  const auto& [tag, observer, type, peer, info] = std::tie((*t)[0], (*t)[1], (*t)[2], (*t)[3], (*t)[4]);
  (void)tag;
  if (type.is_atom("log")) return log_event(observer, peer, info, msg);
  if (!observer.is<ei::Atom>() || !peer.is<ei::Atom>() || !(type.is_atom("nodeup") || type.is_atom("nodedown")))
    return protocol_error("malformed watcher message: " + ei::log_text(msg));
  proto::Event e;
  e.type = type.as<ei::Atom>()->name;
  e.fields = {{"observer", observer}, {"peer", peer}};
  if (const Term* nt = prop(info, "node_type")) e.fields.emplace_back("node_type", *nt);
  if (e.type == "nodedown") {
    const Term* reason = prop(info, "nodedown_reason");
    e.fields.emplace_back("reason", reason != nullptr ? *reason : atom("unknown"));
  }
  return e;
}

}  // namespace ticksplit::agent::watcher
