// Schedules: every key, every mistake with its line, durations in ms / s / T / classes.
#include <doctest/doctest.h>

#include "controller/plan/plan.hpp"
#include "controller/schedule/schedule.hpp"

using namespace ticksplit;
using namespace ticksplit::ctl;

namespace {

const char* kFull = R"(agents: [ticksplit@198.51.100.11, ticksplit@198.51.100.12, ticksplit@198.51.100.13]
cookie_file: /etc/ticksplit/cookie
seed: 42
steps:
  - isolate: app@198.51.100.13
    for: 1.3T
  - wait: 2T
  - partition: [[app@198.51.100.11], [app@198.51.100.12, app@198.51.100.13]]
    for: in_window
  - partition: random_halves
    for: above_window
  - one_way: {from: app@198.51.100.11, to: app@198.51.100.12}
    for: 3s
  - repeat: 5
    steps:
      - partition: majorities_ring
        for: 1500ms
      - wait: below_window
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_schedule(yaml, "s.yaml");
  } catch (const ScheduleError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a schedule with every key parses") {
  auto s = parse_schedule(kFull, "s.yaml");
  CHECK(s.agents.size() == 3);
  CHECK(s.cookie_file == "/etc/ticksplit/cookie");
  CHECK(s.seed == 42u);
  REQUIRE(s.steps.size() == 6);
  CHECK(s.steps[0].kind == Step::Kind::isolate);
  CHECK(s.steps[0].node == "app@198.51.100.13");
  CHECK(std::get<Duration>(s.steps[0].duration.value).unit == Duration::Unit::ticks);
  CHECK(*std::get<Duration>(s.steps[0].duration.value).ms(2000) == 2600);
  CHECK(s.steps[0].where.line == 5);
  CHECK(s.steps[1].kind == Step::Kind::wait);
  CHECK(s.steps[2].shape == "groups");
  CHECK(s.steps[2].groups.size() == 2);
  CHECK(std::get<WindowClass>(s.steps[2].duration.value) == WindowClass::in_window);
  CHECK(s.steps[3].shape == "random_halves");
  CHECK(s.steps[4].kind == Step::Kind::one_way);
  CHECK(s.steps[4].from == "app@198.51.100.11");
  CHECK(*std::get<Duration>(s.steps[4].duration.value).ms() == 3000);
  CHECK(s.steps[5].kind == Step::Kind::repeat);
  CHECK(s.steps[5].times == 5);
  CHECK(s.steps[5].steps.size() == 2);
  CHECK(*std::get<Duration>(s.steps[5].steps[0].duration.value).ms() == 1500);

  auto offline = parse_schedule(
      "agents: [a@h]\nnodes: [app@h]\nnet_ticktime: 2s\ntick_intensity: 20\n"
      "steps: [{wait: 1s}]\n",
      "o.yaml");
  CHECK(offline.nodes == std::vector<std::string>{"app@h"});
  CHECK(offline.net_ticktime_ms == 2000);
  CHECK(offline.tick_intensity == 20);
}

TEST_CASE("durations: the common grammar (decimals in every unit, T) or a class; nonsense refused") {
  CHECK(*std::get<Duration>(parse_duration_spec("250ms")->value).ms() == 250);
  CHECK(*std::get<Duration>(parse_duration_spec("2.9s")->value).ms() == 2900);
  CHECK(*std::get<Duration>(parse_duration_spec("0.5T")->value).ms(2000) == 1000);
  CHECK(std::get<WindowClass>(parse_duration_spec("below_window")->value) == WindowClass::below_window);
  CHECK(std::get<WindowClass>(parse_duration_spec("above_window")->value) == WindowClass::above_window);
  for (const char* bad : {"", "3", "-1s", "0ms", "0.0001s", "T", "xT", "-2T", "soon", "in-window"})
    CHECK_MESSAGE(!parse_duration_spec(bad), bad);
  // the error says what was expected
  CHECK(parse_duration_spec("3").error().message.find("ms, s, m, h or T") != std::string::npos);
  CHECK(parse_duration_spec("3").error().message.find("above_window") != std::string::npos);
}

TEST_CASE("a schedule with for: 2.9s plans a 2900 ms fault") {
  auto s = parse_schedule("agents: [a@h]\nnodes: [app@h, app@i]\nnet_ticktime: 2s\n"
                          "steps: [{isolate: app@h, for: 2.9s}, {wait: 0.25s}]\n",
                          "d.yaml");
  ClusterInfo c;
  c.nodes = {"app@h", "app@i"};
  c.agent_of = {{"app@h", "a@h"}, {"app@i", "a@i"}};
  c.net_ticktime_ms = 2000;
  auto plan = make_plan(s, c, 1);
  REQUIRE(plan.size() == 2);
  CHECK(std::get<PlannedFault>(plan[0]).duration_ms == 2900);
  CHECK(std::get<PlannedWait>(plan[1]).ms == 250);
}

TEST_CASE("every mistake names its file and line") {
  const std::string head = "agents: [ticksplit@198.51.100.11]\nsteps:\n";
  CHECK(error_of(head + "  - isolate: app@198.51.100.11\n") ==
        "s.yaml:3: isolate step needs 'for' (how long the fault lasts)");
  CHECK(error_of(head + "  - isolate: app@198.51.100.11\n    for: soon\n") ==
        "s.yaml:4: 'for': bad duration 'soon': expected a positive decimal number and a unit: ms, s, m, h or T "
              "(net_ticktime), as in 250ms, 2.9s, 1.5m, 0.3T; or a class: below_window, in_window, above_window, "
        "below_call_timeout, around_call_timeout, above_call_timeout");
  CHECK(error_of(head + "  - isolate: app@198.51.100.11\n    for: 1s\n    colour: red\n")
            .rfind("s.yaml:5: unknown key 'colour'", 0) == 0);
  CHECK(error_of(head + "  - isolate: app@198.51.100.11\n    for: 1s\n    loss: 0%\n") ==
        "s.yaml:5: 'loss': bad loss '0%': must be above 0");
  CHECK(error_of(head + "  - isolate: app@198.51.100.11\n    for: 1s\n    loss: [30%]\n") ==
        "s.yaml:5: 'loss' must be a percentage (30%) or a probability (0.3)");
  CHECK(error_of(head + "  - wait: 1s\n    loss: 30%\n").rfind("s.yaml:4: unknown key 'loss'", 0) == 0);
  CHECK(error_of(head + "  - pause: app@198.51.100.11\n    for: 1s\n    loss: 30%\n")
            .rfind("s.yaml:5: unknown key 'loss'", 0) == 0);
  CHECK(error_of(head + "  - pause: nohost\n    for: 1s\n").rfind("s.yaml:3: pause 'nohost' is not a node name", 0) == 0);
  CHECK(error_of(head + "  - stress: app@198.51.100.11\n    for: 1s\n    loss: 30%\n").find("unknown key") !=
        std::string::npos);
  CHECK(error_of(head + "  - stress: app@198.51.100.11\n    for: 1s\n    hogs: 17\n")
            .rfind("s.yaml:5: 'hogs' must be a whole number from 1 to 16", 0) == 0);
  CHECK(error_of(head + "  - stress: app@198.51.100.11\n    for: 1s\n    hogs: two\n")
            .rfind("s.yaml:5: 'hogs' must be a whole number", 0) == 0);
  CHECK(error_of(head + "  - stress: app@198.51.100.11\n").rfind("s.yaml:3: stress step needs 'for'", 0) == 0);
  CHECK(error_of(head + "  - pause: app@198.51.100.11\n").rfind("s.yaml:3: pause step needs 'for'", 0) == 0);
  CHECK(error_of(head + "  - kill_node: app@198.51.100.11\n    for: 1s\n").rfind("s.yaml:4: unknown key 'for'", 0) == 0);
  CHECK(error_of(head + "  - kill_node: nohost\n").rfind("s.yaml:3: kill_node 'nohost' is not a node name", 0) == 0);
  CHECK(error_of(head + "  - kill_node: app@198.51.100.11\n    restart_after: soon\n").rfind("s.yaml:4: 'restart_after'", 0) == 0);
  CHECK(error_of(head + "  - explode: now\n").rfind("s.yaml:3: unknown step 'explode'", 0) == 0);
  CHECK(error_of(head + "  - partition: sideways\n    for: 1s\n").rfind("s.yaml:3: unknown partition shape", 0) == 0);
  CHECK(error_of(head + "  - partition: [[app@h1]]\n    for: 1s\n").rfind("s.yaml:3: partition must be", 0) == 0);
  CHECK(error_of(head + "  - partition: [[app@h1], [app@h1]]\n    for: 1s\n")
            .rfind("s.yaml:3: node app@h1 is in more", 0) == 0);
  CHECK(
      error_of(head + "  - isolate: nohost\n    for: 1s\n").rfind("s.yaml:3: isolate 'nohost' is not a node name", 0) ==
      0);
  CHECK(error_of(head + "  - one_way: {from: a@h}\n    for: 1s\n").rfind("s.yaml:3: one_way needs both", 0) == 0);
  CHECK(error_of(head + "  - one_way: {from: a@h, to: a@h}\n    for: 1s\n").rfind("s.yaml:3: one_way from and to", 0) ==
        0);
  CHECK(error_of(head + "  - repeat: 0\n    steps: [{wait: 1s}]\n").rfind("s.yaml:3: repeat must be", 0) == 0);
  CHECK(error_of(head + "  - repeat: 2\n").rfind("s.yaml:3: repeat needs 'steps'", 0) == 0);
  CHECK(error_of(head + "  - wait: 1s\n    for: 2s\n").rfind("s.yaml:4: unknown key 'for'", 0) == 0);
  CHECK(error_of("steps: [{wait: 1s}]\n").rfind("s.yaml:1: the schedule needs 'agents'", 0) == 0);
  CHECK(error_of("agents: [a@h]\n").rfind("s.yaml:1: the schedule needs 'steps'", 0) == 0);
  CHECK(error_of("agents: [a@h]\nsteps: []\n").rfind("s.yaml:2: steps must be a non-empty list", 0) == 0);
  CHECK(error_of("agents: [a@h]\nseed: -3\nsteps: [{wait: 1s}]\n").rfind("s.yaml:2: seed must be", 0) == 0);
  CHECK(error_of("agents: [a@h]\nnodes: [b@h]\nsteps: [{wait: 1s}]\n")
            .rfind("s.yaml:1: give 'nodes' and 'net_ticktime'", 0) == 0);
  CHECK(error_of("agents: [a@h]\nsteps: [{wait: 1s}\n").rfind("s.yaml:", 0) == 0);  // broken YAML
  CHECK(error_of("agents: [a@h]\nextra: 1\nsteps: [{wait: 1s}]\n").rfind("s.yaml:2: unknown key 'extra'", 0) == 0);
}

TEST_CASE("net_ticktime is whole seconds, as OTP's, at most a day") {
  const auto error_of = [](const std::string& t) {
    try {
      parse_schedule("agents: [a@h]\nnodes: [app@h]\nnet_ticktime: " + t + "\nsteps: [{wait: 1s}]\n", "t.yaml");
    } catch (const ScheduleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("1ms").find("whole seconds") != std::string::npos);
  CHECK(error_of("1.5s").find("whole seconds") != std::string::npos);
  CHECK(error_of("2d").find("bad duration") != std::string::npos);
  CHECK(error_of("25h").find("at most a day") != std::string::npos);
  CHECK(error_of("60s") == "no error");
}

TEST_CASE("a shape that cuts nothing (one node) is refused at planning") {
  auto s = parse_schedule("agents: [a@h]\nsteps: [{isolate: app@h, for: 1s}]\n", "one.yaml");
  ClusterInfo c;
  c.nodes = {"app@h"};
  c.agent_of = {{"app@h", "a@h"}};
  c.net_ticktime_ms = 2000;
  try {
    make_plan(s, c, 1);
    FAIL("no error");
  } catch (const ScheduleError& e) {
    CHECK(std::string(e.what()).find("cuts no node") != std::string::npos);
  }
}

TEST_CASE("call_timeout: the schedule's default, a step's own, only with a call class, 1 s at least") {
  const std::string head = "agents: [ticksplit@h]\n";
  auto s = parse_schedule(head + "call_timeout: 1.5s\nsteps:\n  - isolate: a@h\n    for: below_call_timeout\n"
                                 "  - isolate: a@h\n    for: above_call_timeout\n    call_timeout: 3s\n",
                          "s.yaml");
  CHECK(s.call_timeout_ms == 1500);
  CHECK(std::get<CallClass>(s.steps[0].duration.value) == CallClass::below_call_timeout);
  CHECK(s.steps[0].call_timeout_ms == 1500);
  CHECK(s.steps[1].call_timeout_ms == 3000);
  CHECK(parse_schedule(head + "steps:\n  - isolate: a@h\n    for: around_call_timeout\n", "s.yaml").steps[0].call_timeout_ms ==
        5000);  // gen_server's default
  CHECK(error_of(head + "steps:\n  - isolate: a@h\n    for: 3s\n    call_timeout: 1s\n") ==
        "s.yaml:5: 'call_timeout' sizes a call-timeout class: give 'for' one of below_call_timeout, "
        "around_call_timeout, above_call_timeout");
  CHECK(error_of(head + "call_timeout: 500ms\nsteps:\n  - wait: 1s\n").rfind("s.yaml:2: call_timeout must be a duration from 1s to 3600s", 0) == 0);
  CHECK(error_of(head + "call_timeout: 2T\nsteps:\n  - wait: 1s\n").rfind("s.yaml:2: call_timeout: ", 0) == 0);
  CHECK(error_of(head + "steps:\n  - isolate: a@h\n    for: above_call\n").find("above_call_timeout") != std::string::npos);
}
