// The agent → watcher channel (agent/watcher_command.*, agent/watcher_report.*): the commands'
// shape, the watcher's pid taken from its start reply, and fault reports read as hostile input.
#include <doctest/doctest.h>

#include "agent/watcher.hpp"
#include "agent/watcher_command.hpp"
#include "agent/watcher_report.hpp"

using namespace ticksplit;
using namespace ticksplit::ei;
namespace watcher = ticksplit::agent::watcher;

namespace {
Term report(Term kind, Term id, Term props) {
  return tuple({atom("ticksplit_watcher"), atom("app@h"), atom("fault"), std::move(kind), std::move(id), std::move(props)});
}
Term killed_props(bool restarted = true) {
  return list({tuple({atom("target"), atom("child_of")}), tuple({atom("supervisor"), atom("ts_sup")}),
               tuple({atom("child_id"), binary("w")}), tuple({atom("pid"), binary("<0.90.0>")}),
               tuple({atom("killed_us"), 100}), tuple({atom("restarted"), atom(restarted ? "true" : "false")}),
               tuple({atom("new_pid"), restarted ? binary("<0.95.0>") : atom("undefined")}),
               tuple({atom("restarted_us"), restarted ? Term(103) : atom("undefined")}),
               tuple({atom("error"), binary("")})});
}
}  // namespace

TEST_CASE("commands are {ticksplit_agent, Command}, a kill_process as the watcher reads it") {
  const watcher::KillProcessCommand by_name{"k1", {proto::ProcessTarget::Kind::name, "ts_worker"}, 1234, 1000};
  CHECK(to_string(watcher::command_message(watcher::to_command(by_name))) ==
        "{ticksplit_agent,{kill_process,<<\"k1\">>,{name,ts_worker},1234,1000}}");
  const watcher::KillProcessCommand by_sup{"k2", {proto::ProcessTarget::Kind::child_of, "ts_sup"}, 5, 10};
  CHECK(to_string(watcher::to_command(by_sup)) == "{kill_process,<<\"k2\">>,{child_of,ts_sup},5,10}");
}

TEST_CASE("the watcher's start reply gives its pid, which commands go to") {
  auto started = watcher::on_reply(watcher::Step::start, tuple({atom("ok"), Pid{"app@h", 9, 0, 1}, 2, 4, 4242}));
  REQUIRE(started);
  REQUIRE(started->started->watcher);
  CHECK(started->started->watcher->num == 9);
  auto no_pid = watcher::on_reply(watcher::Step::start, tuple({atom("ok"), atom("me"), 2, 4, 4242}));
  REQUIRE(no_pid);
  CHECK_FALSE(no_pid->started->watcher);  // joined, but it takes no commands (kill_process refused)
}

TEST_CASE("a process_killed report decodes into what the watcher saw") {
  const Term msg = report(atom("process_killed"), binary("k1"), killed_props());
  REQUIRE(watcher::is_fault_report(msg));
  CHECK_FALSE(watcher::is_watcher_message(msg));  // not a nodeup/nodedown/log
  auto r = watcher::fault_report_from(msg);
  REQUIRE(r);
  CHECK(r->observer == "app@h");
  CHECK(r->kind == "process_killed");
  CHECK(r->id == "k1");
  auto seen = watcher::kill_seen_from(*r);
  REQUIRE_MESSAGE(seen, (seen ? "" : seen.error().message));
  CHECK(seen->child_id == "w");
  CHECK(seen->pid == "<0.90.0>");
  CHECK(seen->killed_us == 100);
  CHECK(seen->restarted);
  CHECK(seen->new_pid == "<0.95.0>");
  CHECK(seen->restarted_us == 103);
  CHECK(seen->error.empty());
  auto not_restarted = watcher::kill_seen_from(*watcher::fault_report_from(report(atom("process_killed"), binary("k1"), killed_props(false))));
  REQUIRE(not_restarted);
  CHECK_FALSE(not_restarted->restarted);
  CHECK_FALSE(not_restarted->new_pid);
}

TEST_CASE("hostile fault reports are refused, never trusted") {
  const auto envelope_fails = [](const Term& msg) { return !watcher::fault_report_from(msg).ok(); };
  CHECK(envelope_fails(report(binary("process_killed"), binary("k1"), list({}))));       // kind not an atom
  CHECK(envelope_fails(report(atom(std::string(65, 'k')), binary("k1"), list({}))));     // kind too long
  CHECK(envelope_fails(report(atom("process_killed"), binary(""), list({}))));           // empty id
  CHECK(envelope_fails(report(atom("process_killed"), binary(std::string(129, 'i')), list({}))));
  CHECK(envelope_fails(report(atom("process_killed"), atom("k1"), list({}))));           // id not a binary
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"), atom("props"))));
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"), improper_list({tuple({atom("a"), 1})}, atom("t")))));
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"), list({atom("a")}))));  // not a pair
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"), list({tuple({binary("a"), 1})}))));
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"),
                              list({tuple({atom("pid"), 1}), tuple({atom("pid"), 2})}))));  // a key twice
  std::vector<Term> many;
  for (int i = 0; i < 33; ++i) many.push_back(tuple({atom("p" + std::to_string(i)), i}));
  CHECK(envelope_fails(report(atom("process_killed"), binary("k1"), list(std::move(many)))));
  CHECK(envelope_fails(tuple({atom("ticksplit_watcher"), 7, atom("fault"), atom("process_killed"), binary("k1"), list({})})));

  // The envelope is fine, the fields are not.
  const auto fields_fail = [](Term props) {
    auto r = watcher::fault_report_from(report(atom("process_killed"), binary("k1"), std::move(props)));
    REQUIRE(r);
    return !watcher::kill_seen_from(*r).ok();
  };
  CHECK(fields_fail(list({})));  // nothing said
  const auto with = [](const char* key, Term value) {
    auto props = killed_props();
    for (auto& item : std::get<List>(props.value).items)
      if (auto& kv = std::get<Tuple>(item.value).items; kv[0].is_atom(key)) kv[1] = value;
    return props;
  };
  CHECK(fields_fail(with("killed_us", binary("100"))));
  CHECK(fields_fail(with("killed_us", -1)));
  CHECK(fields_fail(with("restarted", atom("maybe"))));
  CHECK(fields_fail(with("pid", 90)));
  CHECK(fields_fail(with("error", list({}))));
  CHECK(fields_fail(with("restarted_us", 99)));                  // restarted before it was killed
  CHECK(fields_fail(with("new_pid", atom("undefined"))));        // restarted, but to what?
  CHECK(fields_fail(with("pid", atom("undefined"))));            // killed nothing, and no error

  // Oversized or binary texts are cut and made printable, not refused.
  auto big = watcher::kill_seen_from(*watcher::fault_report_from(
      report(atom("process_killed"), binary("k1"), with("error", binary(std::string(5000, 'e') + "\n")))));
  REQUIRE(big);
  CHECK(big->error.size() == watcher::max_report_text);
  auto odd = watcher::kill_seen_from(*watcher::fault_report_from(
      report(atom("process_killed"), binary("k1"), with("child_id", binary(std::string("a\0\xff\n", 4))))));
  REQUIRE(odd);
  CHECK(odd->child_id == "a???");
  // An unknown prop of a known kind is ignored (a newer watcher may add some).
  auto props = killed_props();
  std::get<List>(props.value).items.push_back(tuple({atom("future"), 1}));
  CHECK_FALSE(fields_fail(props));
}

TEST_CASE("a rejected report carries the watcher's reason") {
  auto r = watcher::fault_report_from(report(atom("rejected"), binary("k1"),
                                             list({tuple({atom("command"), atom("kill_process")}),
                                                   tuple({atom("error"), binary("bad target")})})));
  REQUIRE(r);
  CHECK(watcher::rejected_error(*r) == "the watcher rejected the command: bad target");
}
