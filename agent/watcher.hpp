// Putting the watcher module (erlang/src/ticksplit_watcher.erl) on a local node, and
// reading the events it forwards.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"

namespace ticksplit::agent::watcher {

// The compiled watcher and its md5 (beam_lib:md5/1), embedded at build time.
std::span<const std::uint8_t> beam();
std::span<const std::uint8_t> beam_md5();

// The install sequence, one RPC per step. A node that already has this exact version
// loaded goes straight from check_loaded to start: reloading would make the running
// version "old", and a later purge would kill every watcher running it, other agents' too.
enum class Step { check_loaded, purge, load, start };

struct Call {
  const char* mod;
  const char* fun;
  ei::Term args;
};
// `forward_logs`: the level the watcher's logger handler forwards at, or "none".
Call call_for(Step step, const std::string& agent_node, const std::string& agent_name,
              const std::string& forward_logs = "none");

// OTP logger's levels, most severe first (what a forwarded log event may carry).
bool is_logger_level(std::string_view level) noexcept;
// A forwarded log event's text is cut to this many bytes (the watcher cuts it too).
inline constexpr std::size_t max_log_text = 1024;

struct Started {
  std::int64_t net_ticktime_ms;
  std::int64_t tick_intensity;
  std::optional<std::int64_t> os_pid;  // the node's emulator process, as it says (os:getpid()); none if not a pid
  std::optional<ei::Pid> watcher;      // the watcher process, which takes the agent's commands (watcher_command.hpp)
};
// What a step's reply (the Reply of {rex, Reply}) leads to: the next step, or Started.
struct Next {
  std::optional<Step> step;
  std::optional<Started> started;
};
Result<Next> on_reply(Step step, const ei::Term& reply);

// {ticksplit_watcher, Observer, nodeup | nodedown, Peer, Info}, or
// {ticksplit_watcher, Observer, log, Level, [{time_us, T}, {text, Text}, {dropped, N}]}
bool is_watcher_message(const ei::Term& msg) noexcept;
// The node the watcher runs on (its Observer), if the message has one.
std::optional<std::string> observer_of(const ei::Term& msg);
// A nodeup/nodedown event with observer, peer, node_type and (nodedown) reason; or a log
// event: node, level, message (cut to max_log_text bytes), dropped, at the log event's time_us.
Result<proto::Event> to_event(const ei::Term& msg);

}  // namespace ticksplit::agent::watcher
