// Linearizability of one register, cas-register or kv history (one key): check_linearizable.
// The caller checks one key at a time: by Horn & Kroening's P-compositionality ("Faster
// linearizability checking via P-compositionality", FORTE 2015) a history is linearizable iff
// each key's sub-history is. The search itself is search.hpp's (Wing & Gong 1993, Lowe 2017).
//
// Failed operations and indeterminate reads are dropped first: they constrain nothing. Ok
// operations must be linearized; info ones may be, or not.
//
// When the history is not linearizable, the anomaly names the first operation that cannot be
// linearized: the one whose return, in time order, ends the longest linearizable prefix of the
// history (the prefix up to a return: every operation that returned by then is required, those
// still pending are optional, later ones absent). Prefixes only get harder as they grow, so
// bisection finds it, guided by where the first search got to.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>

#include "controller/check/checker.hpp"
#include "controller/check/models.hpp"
#include "controller/check/search.hpp"
#include "controller/check/text.hpp"

namespace ticksplit::check {
namespace {

constexpr std::size_t kMaxStates = 8;            // states reported in the anomaly
constexpr std::uint64_t kCollectSteps = 20'000;  // search steps spent finding more of them

bool concurrent(const Operation& x, const Operation& y) noexcept {
  return !(x.return_us < y.call_us) && !(y.return_us < x.call_us);
}

// The searchable history and, for each ok operation, its rank among returns in time order (the
// order of the entry list: by time, then by call order).
struct Prepared {
  SearchInput all;
  std::vector<std::size_t> by_return;  // ok operations (indices into all.ops) by return
};

Prepared prepare(Model m, std::span<const Operation> ops, ValueTable& values) {
  Prepared p;
  for (const Operation& op : ops)
    if (constrains(op)) p.all.ops.push_back(&op);
  // The caller gives them in call order; the search relies on it, so make sure.
  std::stable_sort(p.all.ops.begin(), p.all.ops.end(),
                   [](const Operation* x, const Operation* y) { return x->call_us < y->call_us; });
  for (const Operation* op : p.all.ops) {
    p.all.steps.push_back(model_op(m, *op, values));
    p.all.required.push_back(op->status == Status::ok ? 1 : 0);
  }
  for (std::size_t i = 0; i < p.all.ops.size(); ++i)
    if (p.all.required[i]) p.by_return.push_back(i);
  std::stable_sort(p.by_return.begin(), p.by_return.end(),
                   [&](std::size_t x, std::size_t y) { return p.all.ops[x]->return_us < p.all.ops[y]->return_us; });
  return p;
}

// The history up to just after the k-th return (k = 0: before any): operations that returned by
// then are required; those called by then but still pending are optional (reads among them
// dropped: a read that has not returned constrains nothing); later ones are absent. With
// `until_us`, operations called up to that time are present too (optional).
SearchInput prefix(const Prepared& p, std::size_t k, std::int64_t until_us = std::numeric_limits<std::int64_t>::min()) {
  std::vector<std::uint8_t> required(p.all.ops.size(), 0);
  for (std::size_t r = 0; r < k; ++r) required[p.by_return[r]] = 1;
  const std::int64_t end =
      std::max(until_us, k == 0 ? std::numeric_limits<std::int64_t>::min() : p.all.ops[p.by_return[k - 1]]->return_us);
  SearchInput in;
  for (std::size_t i = 0; i < p.all.ops.size() && p.all.ops[i]->call_us <= end; ++i) {  // in call order
    if (!required[i] && p.all.steps[i].kind == StepKind::read) continue;
    in.ops.push_back(p.all.ops[i]);
    in.steps.push_back(p.all.steps[i]);
    in.required.push_back(required[i]);
  }
  return in;
}

// What explaining a failure found: the first prefix that is not linearizable, and the states
// the model can be in at the end of the one before, with operations pending then.
struct Explanation {
  std::size_t failing = 0;
  std::vector<ValueId> states;
  std::size_t depth = 0;
  std::size_t states_at = std::numeric_limits<std::size_t>::max();  // the prefix they are for
};

// Whether prefix k is linearizable (nullopt: the budget ran out). `listing`: also list its
// states, with the operations called by the next return pending (Search::collect); else only
// decide, which is cheaper when the answer is no.
std::optional<bool> probe(const Prepared& p, ValueTable& values, const SearchLimits& limits, std::size_t k,
                          bool listing, Explanation& e) {
  const SearchInput in =
      prefix(p, k, listing ? p.all.ops[p.by_return[k]]->return_us : std::numeric_limits<std::int64_t>::min());
  Search s(in, values, limits);
  switch (listing ? s.collect(kMaxStates, kCollectSteps) : s.run()) {
    case SearchEnd::linearizable:
      if (listing) {
        e.states = s.success_states();
        e.depth = s.success_depth();
        e.states_at = k;
      }
      return true;
    case SearchEnd::nonlinearizable:
      return false;
    default:
      return std::nullopt;
  }
}

// Bisection for the first failing prefix, knowing that prefix `lo` is linearizable and prefix
// `hi` is not, trying `guess` first (listing its states: it is probably the answer's
// predecessor) and then guess + 1. If the budget runs out, the best bound found stands.
Explanation explain(const Prepared& p, ValueTable& values, const SearchLimits& limits, std::size_t lo, std::size_t hi,
                    std::size_t guess) {
  Explanation e;
  for (int n = 0; hi - lo > 1; ++n) {
    std::size_t k = lo + (hi - lo) / 2;
    if (n == 0 && guess > lo && guess < hi) k = guess;
    if (n == 1 && guess + 1 > lo && guess + 1 < hi) k = guess + 1;
    const auto ok = probe(p, values, limits, k, n == 0 && k == guess, e);
    if (!ok) break;
    (*ok ? lo : hi) = k;
  }
  e.failing = hi;
  if (e.states_at != hi - 1) probe(p, values, limits, hi - 1, true, e);
  return e;
}

Anomaly nonlinearizable(const Prepared& p, const ValueTable& values, const Explanation& e) {
  const Operation& culprit = *p.all.ops[p.by_return[e.failing - 1]];
  Anomaly a;
  a.type = "nonlinearizable";
  a.ops.push_back(culprit.id);
  for (const Operation* o : p.all.ops)
    if (o != &culprit && concurrent(*o, culprit)) a.ops.push_back(o->id);
  // The culprit is an ok operation (by_return holds only those), so it has returned.
  a.from_us = culprit.call_us;
  a.to_us = culprit.return_us;
  nlohmann::json states = nlohmann::json::array();
  std::string shown;
  if (e.states_at == e.failing - 1) {
    for (const ValueId v : e.states) {
      states.push_back(values.value(v));
      shown += (shown.empty() ? "" : ", ") + format_state(values.value(v));
    }
  }
  a.data = {{"states", states}, {"prefix_ops", e.depth}};
  a.detail = describe_op(culprit) + " cannot be linearized: reachable states were " +
             (shown.empty() ? "not found within the search budget" : shown);
  return a;
}

}  // namespace

KeyResult check_linearizable(Model m, std::span<const Operation> ops, const Budget& budget) {
  KeyResult r;
  if (!ops.empty()) r.key = ops.front().key;
  r.op_count = ops.size();
  // Clamped so that the arithmetic cannot overflow.
  const std::int64_t max_ms = std::clamp<std::int64_t>(budget.max_ms, 0, std::int64_t{1} << 40);
  const std::int64_t max_mb = std::clamp<std::int64_t>(budget.max_mb, 0, std::int64_t{1} << 30);
  const SearchLimits limits{std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms),
                            static_cast<std::size_t>(max_mb) << 20};
  ValueTable values;
  const Prepared p = prepare(m, ops, values);
  SearchEnd end;
  std::size_t configurations = 0, furthest = 0, guess = 0, hi = p.by_return.size();
  {  // scoped: its memo is freed before the explanation's searches allocate theirs
    Search search(p.all, values, limits);
    end = search.run();
    r.stats = search.stats();
    configurations = search.configurations();
    // The search entered only configurations from which its prefix was linearizable; the
    // operation it found starved is the likely culprit, and certainly one if it was starved
    // from the start (nothing in the history produces what it needs).
    furthest = search.furthest();
    if (const std::size_t op = search.starved_op(); op != Starvation::kNoOp && p.all.required[op]) {
      guess = static_cast<std::size_t>(std::find(p.by_return.begin(), p.by_return.end(), op) - p.by_return.begin());
      if (search.starved_from_start()) hi = guess + 1;
    }
  }
  r.stats["ops_searched"] = p.all.ops.size();
  switch (end) {
    case SearchEnd::linearizable:
      r.verdict = Verdict::valid;
      break;
    case SearchEnd::nonlinearizable:
      r.verdict = Verdict::invalid;
      r.anomalies.push_back(
          nonlinearizable(p, values, explain(p, values, limits, std::min(furthest, hi - 1), hi, guess)));
      break;
    case SearchEnd::out_of_time:
    case SearchEnd::out_of_memory:
      r.verdict = Verdict::unknown;
      r.reason = "search budget of " +
                 (end == SearchEnd::out_of_time ? std::to_string(max_ms) + " ms" : std::to_string(max_mb) + " MB") +
                 " reached after " + format_count(configurations) + " configurations";
      break;
  }
  return r;
}

}  // namespace ticksplit::check
