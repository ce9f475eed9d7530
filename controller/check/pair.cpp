// Invokes and completions → Operations, with Jepsen's process rules (jepsen.history: a
// process is one single-threaded client): per process, an invoke opens an operation and the
// process's next ok/fail/info completes it, with the same f. Malformed, naming the line: a
// second invoke while one is open, a completion with nothing open, a mismatched f, an invoke
// after the process's info (the process is then dead: Jepsen continues the client as a new
// process), a negative process, a value of the wrong shape for its f, an f the model does not
// accept. An invoke never completed becomes info.
#include <algorithm>
#include <map>
#include <optional>

#include "controller/check/read.hpp"

namespace ticksplit::check {
namespace {

using nlohmann::json;

bool is_tuple(const json& v) {
  return (v.is_array() && v.size() == 2) ||
         (v.is_object() && v.size() == 2 && v.contains("key") && v.contains("value"));
}

// Jepsen's independent ops carry [key value] (a MapEntry; a #jepsen.independent.Tuple record
// reads as {"key", "value"}). A completion may carry a bare null (then the invoke's key holds).
void split_tuple(OpEvent& e) {
  if (e.key)
    throw ParseError(e.at,
                     "an op with a `key` field, but the values are to be [key value] tuples (--independent, or "
                     "model kv without key fields)");
  if (!e.invoke && e.value.is_null()) return;
  if (!is_tuple(e.value))
    throw ParseError(e.at, "expected a [key value] tuple (independent keys), not " + shown(e.value));
  const bool arr = e.value.is_array();
  e.key = arr ? e.value[0] : e.value["key"];
  json v = arr ? e.value[1] : e.value["value"];
  e.value = std::move(v);
}

void check_invoke_value(Model m, const OpEvent& e) {
  if (e.f == Fn::cas && !(e.value.is_array() && e.value.size() == 2))
    throw ParseError(e.at, "a cas value must be [from, to], not " + shown(e.value));
  if (m == Model::counter && e.f == Fn::add) {
    if (!e.value.is_number_integer()) throw ParseError(e.at, "a counter add needs an integer, not " + shown(e.value));
    // (an unsigned past 2^63 - 1 would read as negative through get<int64_t>)
    if (e.value.is_number_unsigned() ? e.value.get<std::uint64_t>() > std::uint64_t{INT64_MAX}
                                     : e.value.get<std::int64_t>() < 0)
      throw ParseError(e.at, "a counter add must be an integer from 0 to 2^63 - 1, not " + shown(e.value) +
                                 " (the counter checker bounds reads by the adds)");
  }
}

void check_result(Model m, const OpEvent& e) {
  if (e.status != Status::ok) return;
  const bool set_read = m == Model::set && e.f == Fn::read;
  if ((set_read || e.f == Fn::drain) && !e.value.is_array())
    throw ParseError(e.at, std::string("an ok ") + fn_name(e.f) + " must return an array, not " + shown(e.value));
  if (m == Model::counter && e.f == Fn::read && !e.value.is_number_integer())
    throw ParseError(e.at, "an ok counter read must return an integer, not " + shown(e.value));
}

bool returns_result(Fn f) { return f == Fn::read || f == Fn::dequeue || f == Fn::drain; }

class Pairer {
 public:
  struct Options {
    Model model;
    bool split;  // values are [key value] tuples
  };
  Pairer(const Options& o, History& h) : o_(o), h_(h) {}

  void add(OpEvent e) {
    if (o_.split) split_tuple(e);
    if (e.process < 0) throw ParseError(e.at, "process must not be negative: " + std::to_string(e.process));
    if (!model_accepts(o_.model, e.f))
      throw ParseError(e.at, std::string("model ") + model_name(o_.model) + " has no operation " + fn_name(e.f));
    if (e.invoke)
      invoke(std::move(e));
    else
      complete(std::move(e));
  }

 private:
  // Either every op has a key or none has (then they form one history).
  void check_key(const OpEvent& e) {
    if (e.key && bare_) throw ParseError(e.at, "this op has a key, but the op at " + bare_->str() + " has none");
    if (!e.key && keyed_) throw ParseError(e.at, "this op has no key, but the op at " + keyed_->str() + " has one");
    auto& first = e.key ? keyed_ : bare_;
    if (!first) first = e.at;
  }

  void invoke(OpEvent e) {
    check_key(e);
    if (const auto it = open_.find(e.process); it != open_.end())
      throw ParseError(e.at, "process " + std::to_string(e.process) + " invokes while its invoke at " +
                                 h_.ops[it->second].invoked_at.str() + " is still open");
    if (const auto it = crashed_.find(e.process); it != crashed_.end())
      throw ParseError(e.at, "process " + std::to_string(e.process) + " invokes after its info at " + it->second.str() +
                                 " (after an info a process never invokes again: continue as a new process)");
    check_invoke_value(o_.model, e);
    Operation op;
    op.id = h_.ops.size();
    op.process = e.process;
    op.f = e.f;
    if (e.f != Fn::read && e.f != Fn::drain) op.arg = std::move(e.value);
    op.status = Status::info;  // until it completes
    op.call_us = e.time_us;
    op.return_us = kNever;
    op.key = std::move(e.key);
    op.node = std::move(e.node);
    op.invoked_at = e.at;
    open_[e.process] = op.id;
    h_.ops.push_back(std::move(op));
  }

  void complete(OpEvent e) {
    const auto it = open_.find(e.process);
    if (it == open_.end())
      throw ParseError(e.at, std::string("a completion (") + status_name(e.status) + " " + fn_name(e.f) +
                                 ") of process " + std::to_string(e.process) + " with no open invoke");
    auto& op = h_.ops[it->second];
    if (e.f != op.f)
      throw ParseError(e.at, std::string("completes ") + fn_name(e.f) + " but process " + std::to_string(e.process) +
                                 " invoked " + fn_name(op.f) + " at " + op.invoked_at.str());
    if (e.key && !op.key)
      throw ParseError(e.at, "a completion with a key whose invoke at " + op.invoked_at.str() + " has none");
    if (e.key && op.key && *e.key != *op.key)
      throw ParseError(e.at, "completes key " + shown(*e.key) + " but the invoke at " + op.invoked_at.str() +
                                 " has key " + shown(*op.key));
    check_result(o_.model, e);
    op.status = e.status;
    op.return_us = e.status == Status::info ? kNever : e.time_us;
    if (e.status == Status::ok && returns_result(e.f)) op.result = std::move(e.value);
    op.completed_at = e.at;
    if (e.status == Status::info) crashed_[e.process] = e.at;
    open_.erase(it);
  }

  const Options o_;
  History& h_;
  std::optional<Where> keyed_, bare_;         // the first invoke with a key, without one
  std::map<std::int64_t, std::size_t> open_;  // process → its open operation
  std::map<std::int64_t, Where> crashed_;     // process → its info completion
};

}  // namespace

History pair(Events events, const PairOptions& options) {
  History h;
  const bool any_key = std::any_of(events.ops.begin(), events.ops.end(), [](const OpEvent& e) { return e.key; });
  const bool split = options.independent || (options.model == Model::kv && !any_key);
  Pairer p({options.model, split}, h);
  h.ops.reserve(events.ops.size() / 2 + 1);
  for (auto& e : events.ops) p.add(std::move(e));
  h.faults = std::move(events.faults);
  h.node_events = std::move(events.node_events);
  h.notes = std::move(events.notes);
  h.window_max_ms = events.window_max_ms;
  h.files = std::move(events.files);
  h.origin_us = events.first_us.value_or(0);
  return h;
}

}  // namespace ticksplit::check
