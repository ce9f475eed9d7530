// kill_node without processes: the request's wire shape and its rejections, the events and
// refusals through the codec, the kill guard's report lines, --node-start.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "agent/kill/guard.hpp"
#include "agent/options.hpp"
#include "common/ei/decode.hpp"
#include "common/ei/encode.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"
#include "common/proto/fault_codec.hpp"
#include "common/proto/request.hpp"

using namespace ticksplit;
using ei::atom;
using ei::Term;
using ei::tuple;

namespace {

Term wire(const Term& t) {
  auto x = ei::encode(t);
  REQUIRE(x.ok());
  auto back = ei::decode(x->bytes());
  REQUIRE(back.ok());
  return *back;
}

std::string rejected(const Term& t) {
  auto parsed = proto::parse_request(t);
  REQUIRE(std::holds_alternative<proto::Rejected>(parsed));
  return ei::to_string(std::get<proto::Rejected>(parsed).reason);
}

Term spec(std::vector<std::pair<Term, Term>> kv) { return tuple({atom("kill_node"), ei::map(std::move(kv))}); }

}  // namespace

TEST_CASE("kill_node requests round-trip, with and without a restart") {
  proto::KillNodeRequest full{"app@198.51.100.11", 1'700'000'000'000'000, "k-1", 5000};
  proto::KillNodeRequest minimal{"app@198.51.100.11", std::nullopt, std::nullopt, std::nullopt};
  for (const proto::Request& r : {proto::Request{full}, proto::Request{minimal}}) {
    auto parsed = proto::parse_request(wire(proto::to_term(r)));
    REQUIRE(std::holds_alternative<proto::Request>(parsed));
    CHECK(std::get<proto::Request>(parsed) == r);
  }
  CHECK(ei::to_string(proto::to_term(proto::Request{minimal})) == "{kill_node,#{node => 'app@198.51.100.11'}}");
}

TEST_CASE("bad kill_node requests are rejected with the reason") {
  const auto node = std::pair<Term, Term>{atom("node"), atom("app@h")};
  CHECK(rejected(tuple({atom("kill_node"), atom("x")})) == "{spec_not_a_map,x}");
  CHECK(rejected(spec({})) == "{bad_node,missing}");
  CHECK(rejected(spec({{atom("node"), atom("nohost")}})) == "{bad_node,nohost}");
  CHECK(rejected(spec({{atom("node"), ei::binary("app@h")}})) == "{bad_node,<<\"app@h\">>}");
  CHECK(rejected(spec({node, {atom("restart_after_ms"), 0}})) == "{bad_restart_after,0}");
  CHECK(rejected(spec({node, {atom("restart_after_ms"), -5}})) == "{bad_restart_after,-5}");
  CHECK(rejected(spec({node, {atom("restart_after_ms"), atom("soon")}})) == "{bad_restart_after,soon}");
  CHECK(rejected(spec({node, {atom("start_at_us"), -1}})) == "{bad_start_at_us,-1}");
  CHECK(rejected(spec({node, {atom("id"), ei::binary("")}})) == "{bad_id,<<\"\">>}");
  CHECK(rejected(spec({node, {atom("duration_ms"), 5}})) == "{unknown_key,duration_ms}");
}

TEST_CASE("node_killed and kill_ended round-trip through terms and bytes") {
  using namespace ticksplit::proto;
  const std::vector<TimedFaultEvent> all{
      {10, NodeKilled{"k1", "app@h", 4242, "ctl@c", 100, 112, 3100}},
      {11, NodeKilled{"k2", "app@h", 4243, "ctl@c", 100, std::nullopt, std::nullopt}},
      {12, KillEnded{"k1", "app@h", HealReason::deadline, true, 100, 112, 3100, 3101, 5000, ""}},
      {13, KillEnded{"k3", "app@h", HealReason::request, false, std::nullopt, std::nullopt, 900, std::nullopt,
                     std::nullopt, ""}},
      {14, KillEnded{"k4", "app@h", HealReason::deadline, true, 100, std::nullopt, 3100, std::nullopt, std::nullopt,
                     "the guard failed: exit 110"}},
  };
  for (const auto& te : all) {
    auto w = to_event(te);
    w.seq = 3;
    auto bytes = ei::encode(to_term(w));
    REQUIRE(bytes);
    auto term = ei::decode(bytes->data(), bytes->size());
    REQUIRE(term);
    auto back = event_from_term(*term);
    REQUIRE(back);
    CHECK(back->type == event_type(te.event));
    auto typed = fault_event_from(*back);
    REQUIRE_MESSAGE(typed, (typed ? "" : typed.error().message));
    CHECK(*typed == te.event);
  }
  Event e = to_event(all[2]);
  e.fields.erase(e.fields.begin() + 3);  // killed
  CHECK(fault_event_from(e).error().message.find("without killed") != std::string::npos);
}

TEST_CASE("kill refusals and status have their wire shapes") {
  using namespace ticksplit::proto;
  using K = Refusal::Kind;
  const auto text = [](const Refusal& r) { return ei::to_string(to_term(r)); };
  CHECK(text({K::already_killed, "app@h", {}, 0, 0}) == "{already_killed,app@h}");
  CHECK(text({K::no_start_command, "app@h", {}, 0, 0}) == "{no_start_command,app@h}");
  CHECK(text({K::cannot_kill, "app@h", "no guard", 0, 0}) == "{cannot_kill,app@h,<<\"no guard\">>}");
  const auto s = ei::to_string(to_term(KillStatus{"k1", "ctl@c", "app@h", 42, KillStatus::State::down, 5, 9}));
  CHECK(s.find("kind => kill_node") != std::string::npos);
  CHECK(s.find("state => down") != std::string::npos);
  CHECK(s.find("restart_us => 9") != std::string::npos);
}

TEST_CASE("the kill guard's report lines parse exactly") {
  using agent::kill::KillReport;
  using agent::kill::parse_kill_report_line;
  auto r = parse_kill_report_line("killed 123\n");
  REQUIRE(r);
  CHECK(r->kind == KillReport::Kind::killed);
  CHECK(r->at_ns == 123);
  CHECK(parse_kill_report_line("exited 130")->kind == KillReport::Kind::exited);
  r = parse_kill_report_line("started 200 4242");
  REQUIRE(r);
  CHECK((r->kind == KillReport::Kind::started && r->at_ns == 200 && r->pid == 4242));
  r = parse_kill_report_line("cancelled 5 request");
  REQUIRE(r);
  CHECK(r->detail == "request");
  r = parse_kill_report_line("failed exit 110");
  REQUIRE(r);
  CHECK((r->kind == KillReport::Kind::failed && r->detail == "exit 110"));
  for (const char* bad : {"", "killed", "killed 0", "killed 01", "killed 1 2", "exited -1", "started 1", "started 1 0",
                          "started 1 2 3", "cancelled 1 bored", "failed stop 1", "failed exit 0", "failed exit 5000",
                          "killed  1", "resumed 1 deadline", "killed 99999999999999999999"})
    CHECK_MESSAGE(!parse_kill_report_line(bad), bad);
  CHECK_FALSE(parse_kill_report_line(std::string(200, '1')));
}

namespace {
struct Cookie {
  std::string dir, path;
  Cookie() {
    char tmpl[] = "/tmp/ticksplit-test-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/cookie";
    std::ofstream(path) << "secret";
    chmod(path.c_str(), 0600);
  }
  ~Cookie() {
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
};
std::string start_error(const std::string& cookie, std::vector<std::string> extra) {
  std::vector<std::string> args{"ticksplit-agent", "--node", "app@h", "--cookie-file", cookie};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    agent::parse_options(static_cast<int>(argv.size()), argv.data());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("--node-start: NODE=COMMAND for a --node, once, bounded") {
  Cookie c;
  const char* argv[] = {"ticksplit-agent",
                        "--node",
                        "app@h",
                        "--cookie-file",
                        c.path.c_str(),
                        "--node-start",
                        "app@h=echo a=b; exec erl -name app@h"};
  const auto p = agent::parse_options(7, argv);
  REQUIRE(p.options);
  CHECK(p.options->node_start.at("app@h") == "echo a=b; exec erl -name app@h");  // the first '=' splits
  CHECK(start_error(c.path, {"--node-start", "app@h"}).find("NODE=COMMAND") != std::string::npos);
  CHECK(start_error(c.path, {"--node-start", "app@h="}).find("1 to 4096 bytes") != std::string::npos);
  CHECK(start_error(c.path, {"--node-start", "app@h=" + std::string(4097, 'x')}).find("1 to 4096") !=
        std::string::npos);
  CHECK(start_error(c.path, {"--node-start", "other@h=x"}).find("not a --node") != std::string::npos);
  CHECK(start_error(c.path, {"--node-start", "nohost=x"}).find("name@host") != std::string::npos);
  CHECK(start_error(c.path, {"--node-start", "app@h=x", "--node-start", "app@h=y"}).find("twice") != std::string::npos);
}
