// The linearizability search against the brute-force oracle on thousands of seeded random small
// histories from a simulated register, cas-register and kv, with faults injected into what the
// clients reported. Both verdicts must be common (else the test would pass vacuously), and the
// oracle's deliberately broken variants must disagree with it on some histories (else the test
// could not catch a checker with that bug).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "controller/check/checker.hpp"
#include "controller/check/models.hpp"
#include "tests/unit/check_oracle.hpp"
#include "tests/unit/check_simulate.hpp"

using namespace ticksplit::check;
using namespace ticksplit::check::testing;
using json = nlohmann::json;

namespace {

// Faults a buggy system or client might produce; each may or may not break linearizability.
void inject(std::vector<Operation>& ops, Rng& rng, std::int64_t values) {
  const auto faults = rng.between(1, 4);
  for (std::int64_t k = 0; k < faults && !ops.empty(); ++k) {
    Operation& op = ops[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(ops.size())))];
    switch (rng.below(8)) {
      case 0:
      case 6:
      case 7:  // (the likeliest) a stale or never-written read value (values + 1 is never written)
        if (op.f == Fn::read && op.status == Status::ok)
          op.result = rng.chance(0.2) ? json() : json(rng.between(1, values + 1));
        break;
      case 1:  // the client timed out: indeterminate
        op.status = Status::info;
        op.return_us = kNever;
        op.result = json();
        break;
      case 2:  // reported failed, though it may have taken effect
        if (op.status == Status::ok && op.f != Fn::read) op.status = Status::fail;
        break;
      case 3:  // a write that took effect with another value than the client asked for
        if (op.f == Fn::write) op.arg = rng.between(1, values);
        break;
      case 4:  // a clock that is off: the interval reported later than it was
        if (op.status == Status::ok) {
          const auto shift = rng.between(1, 4);
          op.call_us += shift;
          op.return_us += shift;
        }
        break;
      case 5:  // an operation that failed (had no effect) reported ok
        if (op.status == Status::fail) op.status = Status::ok;
        break;
    }
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Operation& x, const Operation& y) { return x.call_us < y.call_us; });
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
}

std::string dump(const std::vector<Operation>& ops) {
  std::string s;
  for (const Operation& o : ops) {
    s += "  " + std::to_string(o.id) + ": p" + std::to_string(o.process) + " " + fn_name(o.f) +
         " arg=" + format_value(o.arg) + " result=" + format_value(o.result) + " " + status_name(o.status) + " [" +
         std::to_string(o.call_us) + ", " + (o.return_us == kNever ? "inf" : std::to_string(o.return_us)) + "]\n";
  }
  return s;
}

struct Tally {
  int histories = 0, valid = 0, invalid = 0, disagreements = 0;
  int caught_no_real_time = 0, caught_info_must_happen = 0, caught_info_never = 0;
};

void run(Model m, std::uint64_t first_seed, int n, Tally& t) {
  for (int i = 0; i < n; ++i) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    Rng rng{seed};
    SimOptions o;
    o.model = m;
    o.ops = static_cast<std::size_t>(rng.between(2, 10));
    o.processes = static_cast<std::size_t>(rng.between(1, 4));
    o.info = rng.chance(0.5) ? 0.15 : 0.0;
    o.values = rng.chance(0.3) ? 0 : 3;  // unique writes (as Jepsen's register workloads) or few values
    auto ops = simulate(o, rng);
    const bool faulty = rng.chance(0.9);
    if (faulty) inject(ops, rng, o.values == 0 ? 6 : o.values);

    const bool expected = oracle::linearizable(m, ops);
    const KeyResult r = check_linearizable(m, ops, Budget{10'000, 64});
    ++t.histories;
    (expected ? t.valid : t.invalid)++;
    if (!faulty) CHECK_MESSAGE(expected, "an unfaulted simulation must be linearizable; seed " << seed);
    const bool agrees = r.verdict == (expected ? Verdict::valid : Verdict::invalid);
    if (!agrees) {
      ++t.disagreements;
      FAIL_CHECK(model_name(m) << " seed " << seed << ": oracle says " << (expected ? "valid" : "invalid")
                               << ", the search " << verdict_name(r.verdict) << " " << r.reason << "\n"
                               << dump(ops));
    }
    if (r.verdict == Verdict::invalid) {
      REQUIRE(r.anomalies.size() == 1);
      const Anomaly& a = r.anomalies[0];
      const auto culprit = oracle::first_unlinearizable(m, ops);
      CHECK_MESSAGE(culprit == a.ops.at(0), model_name(m)
                                                << " seed " << seed << ": the anomaly names op " << a.ops.at(0) << "\n"
                                                << dump(ops));
      CHECK(ops[a.ops.at(0)].status == Status::ok);
      CHECK(a.from_us <= a.to_us);
      CHECK(a.data["states"].size() >= 1);
      CHECK(a.data["states"].size() <= 8);
    }
    if (!expected && oracle::linearizable(m, ops, {.real_time = false})) ++t.caught_no_real_time;
    if (expected && !oracle::linearizable(m, ops, {.info_may_vanish = false})) ++t.caught_info_must_happen;
    if (expected && !oracle::linearizable(m, ops, {.info_may_happen = false})) ++t.caught_info_never;
  }
}

// A register's info write can always be linearized last, so "info must happen" is only a bug
// for models with operations that can fail (cas, append).
void require_both_verdicts_and_mutants(const Tally& t, bool info_must_happen_catchable = true) {
  MESSAGE(t.histories << " histories: " << t.valid << " valid, " << t.invalid << " invalid; mutants caught: "
                      << "no real-time order " << t.caught_no_real_time << ", info must happen "
                      << t.caught_info_must_happen << ", info never happens " << t.caught_info_never);
  CHECK(t.disagreements == 0);
  CHECK(t.valid * 5 >= t.histories);  // at least 20% each
  CHECK(t.invalid * 5 >= t.histories);
  CHECK(t.caught_no_real_time >= 10);
  if (info_must_happen_catchable) CHECK(t.caught_info_must_happen >= 10);
  CHECK(t.caught_info_never >= 10);
}

}  // namespace

TEST_CASE("the search agrees with the oracle on random register histories") {
  Tally t;
  run(Model::register_, 1'000'000, 3000, t);
  require_both_verdicts_and_mutants(t, false);
}

TEST_CASE("the search agrees with the oracle on random cas-register histories") {
  Tally t;
  run(Model::cas_register, 2'000'000, 3000, t);
  require_both_verdicts_and_mutants(t);
}

TEST_CASE("the search agrees with the oracle on random kv histories (cas and append)") {
  Tally t;
  run(Model::kv, 3'000'000, 2000, t);
  require_both_verdicts_and_mutants(t);
}
