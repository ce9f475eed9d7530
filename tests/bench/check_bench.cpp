// Benchmark of the history checker's linearizability search (controller/check/linearizable.cpp).
// Prints figures (also to $TICKSPLIT_BENCH_DIR/check.txt when set); exits non-zero if a verdict
// is wrong, or (with TICKSPLIT_BENCH_STRICT=1, strict.hpp) if a time or memory target is missed:
//   - a valid 10k-operation 10-process register history is checked in under 1 s;
//   - 100k operations over 100 keys, checked key by key, in under 5 s in all;
//   - every case's peak RSS stays below --max-mb (each case runs in its own forked child, and
//     wait4 gives that child's own peak: RUSAGE_CHILDREN would be the largest child so far);
//   - valid histories are valid; those with an injected stale read are invalid, or unknown
//     because the search budget ran out (printed as such).
// Histories come from a simulated register (tests/unit/check_simulate.hpp): each operation takes
// effect at a random instant of its interval, 1% complete as info. A baseline compares the search
// with the brute-force oracle (tests/unit/check_oracle.hpp) on small histories.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/text.hpp"
#include "tests/unit/check_oracle.hpp"
#include "tests/unit/check_simulate.hpp"
#include "strict.hpp"

using namespace ticksplit::check;
using namespace ticksplit::check::testing;
using Clock = std::chrono::steady_clock;

namespace {

std::string out;  // everything printed, for the figures file

void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fputs(buf, stdout);
  std::fflush(stdout);
  out += buf;
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// What a child reports back through a pipe.
struct Outcome {
  Verdict verdict = Verdict::unknown;
  char reason[160] = {};
  double check_ms = 0;
  std::uint64_t configurations = 0;
  long history_rss_kb = 0;  // peak before the check: the generated history itself
  bool culprit_ok = true;   // invalid: the anomaly names the injected stale read
};

// What a case's history is and what its verdict must be.
enum class Expect { valid, invalid_or_budget, anything };
enum class Injected { none, stale_read, wrong_read, hard };

struct Case {
  std::string name;
  std::size_t ops, processes, keys;
  Expect expect;
  Injected fault = Injected::none;
  double max_ms = 0;  // a timing target; 0 if none
  Model model = Model::register_;
  std::int64_t values = 0;  // writes draw from 1..values; 0: every write is unique
  double info = 0.01;
  std::int64_t max_mb = 0;     // the search's memory budget, if not --max-mb
  std::int64_t budget_ms = 0;  // its time budget, if not 5 s
};

// Replaces an ok read in the second half with the value of the history's first ok write, which
// a later ok write (completed before the read began) has overwritten: a stale read. Returns its
// id (ops.size() if there was none to replace).
std::size_t inject_stale_read(std::vector<Operation>& ops) {
  const Operation* first = nullptr;
  const Operation* over = nullptr;
  for (const Operation& o : ops) {
    if (o.f != Fn::write || o.status != Status::ok) continue;
    if (!first)
      first = &o;
    else if (o.key == first->key && o.call_us > first->return_us) {
      over = &o;
      break;
    }
  }
  if (!over) return ops.size();
  for (std::size_t i = ops.size() / 2; i < ops.size(); ++i) {
    Operation& o = ops[i];
    if (o.f == Fn::read && o.status == Status::ok && o.key == first->key && o.call_us > over->return_us) {
      o.result = first->arg;
      return o.id;
    }
  }
  return ops.size();
}

// A read in the middle returning another value of the domain than it saw: with few values it
// may or may not still be linearizable.
std::size_t inject_wrong_read(std::vector<Operation>& ops, std::int64_t values) {
  for (std::size_t i = ops.size() / 2; i < ops.size(); ++i) {
    Operation& o = ops[i];
    if (o.f != Fn::read || o.status != Status::ok) continue;
    o.result = o.result.is_number_integer() ? o.result.get<std::int64_t>() % values + 1 : 1;
    return o.id;
  }
  return ops.size();
}

// 40 concurrent writes, each read by a concurrent read, then reads of 1 and of 2 in turn: not
// linearizable, but only after trying all 2^40 subsets of the pairs, so the budget decides.
std::vector<Operation> hard() {
  std::vector<Operation> ops;
  auto add = [&](Fn f, std::int64_t v, std::int64_t call, std::int64_t ret) {
    Operation o;
    o.id = ops.size();
    o.process = static_cast<std::int64_t>(ops.size());
    o.f = f;
    (f == Fn::write ? o.arg : o.result) = v;
    o.call_us = call;
    o.return_us = ret;
    ops.push_back(std::move(o));
  };
  for (std::int64_t i = 1; i <= 40; ++i) add(Fn::write, i, 0, 100), add(Fn::read, i, 0, 100);
  add(Fn::read, 1, 200, 210);
  add(Fn::read, 2, 220, 230);
  return ops;
}

std::vector<Operation> history_for(const Case& c, std::size_t& stale) {
  if (c.fault == Injected::hard) {
    stale = 0;
    return hard();
  }
  Rng rng{0x5EED0000 + c.ops + c.processes * 7 + c.keys * 13 + static_cast<std::uint64_t>(c.values) * 17};
  SimOptions o;
  o.model = c.model;
  o.ops = c.ops;
  o.processes = c.processes;
  o.keys = c.keys;
  o.values = c.values;  // 0: unique writes, as Jepsen's register workloads use
  o.info = c.info;
  o.max_gap = 50;
  o.max_duration = 200;
  auto ops = simulate(o, rng);
  stale = c.fault == Injected::stale_read   ? inject_stale_read(ops)
          : c.fault == Injected::wrong_read ? inject_wrong_read(ops, c.values)
                                            : ops.size();
  return ops;
}

Outcome run_case(const Case& c, const Budget& budget) {
  std::size_t stale = 0;
  const auto ops = history_for(c, stale);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  Outcome r;
  r.history_rss_kb = ru.ru_maxrss;
  std::map<std::int64_t, std::vector<Operation>> by_key;  // P-compositionality: key by key
  if (c.keys == 0)
    by_key[0] = ops;
  else
    for (const Operation& o : ops) by_key[o.key->get<std::int64_t>()].push_back(o);
  r.verdict = Verdict::valid;
  std::string reason;
  const auto t0 = Clock::now();
  for (const auto& [key, key_ops] : by_key) {
    const KeyResult k = check_linearizable(c.model, key_ops, budget);
    r.verdict = combine(r.verdict, k.verdict);
    r.configurations += k.stats.value("configurations", std::uint64_t{0});
    if (reason.empty()) reason = k.reason;
    for (const Anomaly& a : k.anomalies) r.culprit_ok = r.culprit_ok && a.ops.front() == stale;
  }
  r.check_ms = ms_since(t0);
  std::snprintf(r.reason, sizeof r.reason, "%s", reason.c_str());
  return r;
}

// Runs `c` in a child; returns its outcome and its own peak RSS in KB.
bool in_child(const Case& c, const Budget& budget, Outcome& r, long& peak_kb) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::close(fds[0]);
    const Outcome o = run_case(c, budget);
    const bool sent = ::write(fds[1], &o, sizeof o) == static_cast<ssize_t>(sizeof o);
    _exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  const bool got = ::read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
  ::close(fds[0]);
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) return false;
  peak_kb = ru.ru_maxrss;
  return got && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool budget_reason(const Outcome& o) { return std::strncmp(o.reason, "search budget of ", 17) == 0; }

// The oracle and the search on the same small random histories (8 to 14 operations, 5
// processes), half with a read's value corrupted.
void baseline() {
  say("baseline: brute-force oracle vs search on the same small register histories (5 processes, 10%% info)\n");
  for (std::size_t n : {8, 10, 12, 14}) {
    std::vector<std::vector<Operation>> histories;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
      Rng rng{seed * 1000 + n};
      SimOptions o;
      o.ops = n;
      o.processes = 5;
      o.info = 0.1;
      auto ops = simulate(o, rng);
      if (seed % 2 == 0)
        for (Operation& op : ops)
          if (op.f == Fn::read && op.status == Status::ok && rng.chance(0.3)) op.result = rng.between(1, o.values + 1);
      histories.push_back(std::move(ops));
    }
    int agree = 0, valid = 0;
    auto t0 = Clock::now();
    std::vector<bool> expected;
    for (const auto& h : histories) expected.push_back(oracle::linearizable(Model::register_, h));
    const double oracle_ms = ms_since(t0);
    t0 = Clock::now();
    for (std::size_t i = 0; i < histories.size(); ++i) {
      const auto r = check_linearizable(Model::register_, histories[i], Budget{});
      agree += (r.verdict == Verdict::valid) == expected[i] ? 1 : 0;
      valid += expected[i] ? 1 : 0;
    }
    const double search_ms = ms_since(t0);
    say("  %2zu ops x %zu histories (%3d valid): oracle %9.2f ms, search %7.2f ms, oracle/search %8.2f; agree on %d\n",
        n, histories.size(), valid, oracle_ms, search_ms, oracle_ms / search_ms, agree);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t max_mb = 512;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--max-mb") == 0) max_mb = std::atoll(argv[i + 1]);
  const Budget budget{5'000, max_mb};
  bool ok = true;           // the verdicts: a failure either way
  bool targets_met = true;  // time and memory: fail only with TICKSPLIT_BENCH_STRICT=1

  std::vector<Case> cases;
  for (std::size_t n : {1'000, 10'000, 100'000})
    for (std::size_t p : {5, 10, 50}) {
      cases.push_back({"register", n, p, 0, Expect::valid, Injected::none, n == 10'000 && p == 10 ? 1'000.0 : 0.0});
      cases.push_back({"register, stale read", n, p, 0, Expect::invalid_or_budget, Injected::stale_read});
    }
  cases.push_back({"register, 100 keys", 100'000, 20, 100, Expect::valid, Injected::none, 5'000.0});
  cases.push_back(
      {"register, 100 keys, stale read", 100'000, 20, 100, Expect::invalid_or_budget, Injected::stale_read});
  // Jepsen's cas-register workload draws values from 0..4, and clients time out more often: the
  // search has far fewer clues, and a wrong read may well take it the whole budget.
  cases.push_back({"cas-register, 5 values, 5% info", 10'000, 10, 0, Expect::valid, Injected::none, 0,
                   Model::cas_register, 5, 0.05});
  cases.push_back({"cas-register, 5 values, wrong read", 10'000, 10, 0, Expect::anything, Injected::wrong_read, 0,
                   Model::cas_register, 5, 0.05});
  cases.push_back({"kv (cas, append), 3 values", 10'000, 5, 0, Expect::valid, Injected::none, 0, Model::kv, 3});
  // A history built to need 2^40 configurations: the budget, time or memory, must end it.
  cases.push_back({"hard (2^40 configurations)", 82, 82, 0, Expect::invalid_or_budget, Injected::hard});
  cases.push_back(
      {"hard, 64 MB budget", 82, 82, 0, Expect::invalid_or_budget, Injected::hard, 0, Model::register_, 0, 0, 64});
  cases.push_back(
      {"hard, 1 s budget", 82, 82, 0, Expect::invalid_or_budget, Injected::hard, 0, Model::register_, 0, 0, 0, 1'000});

  say("check: linearizability search on simulated histories (1%% info ops unless said), budget %lld ms and %lld MB;\n"
      "       each case in its own process, peak RSS from wait4 (history alone in parentheses)\n",
      static_cast<long long>(budget.max_ms), static_cast<long long>(budget.max_mb));
  say("  %-36s %7s %5s %4s  %-8s %10s %9s %9s %10s\n", "case", "ops", "procs", "keys", "verdict", "check ms", "configs",
      "peak MB", "(history)");
  for (const Case& c : cases) {
    Outcome r;
    long peak_kb = 0;
    const Budget b{c.budget_ms > 0 ? c.budget_ms : budget.max_ms, c.max_mb > 0 ? c.max_mb : budget.max_mb};
    if (!in_child(c, b, r, peak_kb)) {
      say("  %-36s the child failed\n", c.name.c_str());
      ok = false;
      continue;
    }
    say("  %-36s %7zu %5zu %4zu  %-8s %10.1f %9s %9.1f %10.1f\n", c.name.c_str(), c.ops, c.processes,
        c.keys == 0 ? std::size_t{1} : c.keys, verdict_name(r.verdict), r.check_ms, format_count(r.configurations).c_str(),
        static_cast<double>(peak_kb) / 1024, static_cast<double>(r.history_rss_kb) / 1024);
    if (r.verdict == Verdict::unknown) say("      unknown: %s\n", r.reason);
    if (r.verdict == Verdict::invalid && c.fault == Injected::stale_read && !r.culprit_ok) {
      say("      TARGET MISSED: the anomaly does not name the injected stale read\n");
      ok = false;
    }
    const bool verdict_ok = c.expect == Expect::anything ||
                            (c.expect == Expect::valid && r.verdict == Verdict::valid) ||
                            (c.expect == Expect::invalid_or_budget &&
                             (r.verdict == Verdict::invalid || (r.verdict == Verdict::unknown && budget_reason(r))));
    if (!verdict_ok) {
      say("      TARGET MISSED: expected %s\n", c.expect == Expect::valid ? "valid" : "invalid (or unknown: budget)");
      ok = false;
    }
    if (c.max_ms > 0 && r.check_ms >= c.max_ms) {
      say("      TARGET MISSED: must take under %.0f ms\n", c.max_ms);
      targets_met = false;
    }
    if (peak_kb >= b.max_mb * 1024) {
      say("      TARGET MISSED: peak RSS must stay below %lld MB\n", static_cast<long long>(b.max_mb));
      targets_met = false;
    }
  }
  baseline();

  if (const char* dir = std::getenv("TICKSPLIT_BENCH_DIR")) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = std::string(dir) + "/check.txt";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fputs(out.c_str(), f);
      std::fclose(f);
    } else {
      std::fprintf(stderr, "check_bench: cannot write %s\n", path.c_str());
      ok = false;
    }
  }
  return ticksplit::bench::exit_code(ok, targets_met);
}
