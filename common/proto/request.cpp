#include "common/proto/request.hpp"

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

}  // namespace

std::variant<Request, Rejected> parse_request(const Term& t) {
  if (t.is_atom("status")) return StatusRequest{};
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
  return Rejected{unknown(t)};
}

Term to_term(const Request& r) {
  struct V {
    Term operator()(const StatusRequest&) const { return atom("status"); }
    Term operator()(const SubscribeRequest& s) const { return tuple({atom("subscribe"), s.pid}); }
    Term operator()(const UnsubscribeRequest& s) const { return tuple({atom("unsubscribe"), s.pid}); }
    Term operator()(const EventsRequest& e) const { return tuple({atom("events"), e.since}); }
  };
  return std::visit(V{}, r);
}

bool is_gen_call(const Term& msg) noexcept {
  const auto* items = msg.tuple_of(3);
  return items != nullptr && (*items)[0].is_atom("$gen_call");
}

Result<GenCall> parse_gen_call(const Term& msg) {
  if (!is_gen_call(msg)) return protocol_error("not a '$gen_call': " + ei::to_string(msg));
  const auto& items = *msg.tuple_of(3);
  const auto* from = items[1].tuple_of(2);
  const ei::Pid* pid = from != nullptr ? (*from)[0].as<ei::Pid>() : nullptr;
  if (pid == nullptr) return protocol_error("'$gen_call' with a bad From: " + ei::to_string(items[1]));
  return GenCall{*pid, (*from)[1], items[2]};
}

Term gen_call_term(const GenCall& c) { return tuple({atom("$gen_call"), tuple({c.from, c.tag}), c.request}); }

Term gen_reply_term(const Term& tag, Term reply) { return tuple({tag, std::move(reply)}); }

}  // namespace ticksplit::proto
