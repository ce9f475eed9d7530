// Histories from a simulated register, cas-register or kv, for the random tests and the
// benchmark: processes issue operations one after another; each operation takes effect at a
// random instant of its interval (so the history is linearizable by construction), or, if it
// completes as info, at a random instant after its invoke or never. A cas whose `from` does not
// hold, or an append to a non-string, fails and has no effect, as a real client would report.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <tuple>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"

namespace ticksplit::check::testing {

// splitmix64: the same stream on every platform, unlike std:: distributions.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::int64_t below(std::int64_t n) {
    return n <= 0 ? 0 : static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }
  std::int64_t between(std::int64_t lo, std::int64_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

struct SimOptions {
  Model model = Model::register_;
  std::size_t ops = 10;
  std::size_t processes = 3;
  std::size_t keys = 0;     // 0: no keys; else each operation picks one of `keys`
  std::int64_t values = 3;  // writes draw from 1..values; 0: every write is unique
  double info = 0.0;        // probability that an operation completes as info
  double read_ratio = 0.5;
  std::int64_t max_gap = 3, max_duration = 6;  // µs between a process's ops; an op's length
};

struct Simulated {
  Operation op;
  std::int64_t effect = 0;  // when it took effect (scaled by 16 to leave room for ties)
  std::uint64_t tiebreak = 0;
  bool happens = true;
};

inline std::vector<Operation> simulate(const SimOptions& o, Rng& rng) {
  using json = nlohmann::json;
  std::vector<Simulated> sims;
  sims.reserve(o.ops);
  // processes by the time they are free again: (free_us, process)
  std::priority_queue<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<std::int64_t, std::int64_t>>,
                      std::greater<>>
      free;
  for (std::size_t p = 0; p < o.processes; ++p) free.emplace(rng.below(o.max_gap + 1), static_cast<std::int64_t>(p));
  std::int64_t unique = 0, next_process = static_cast<std::int64_t>(o.processes);
  auto value = [&]() -> json {
    if (o.values == 0) return ++unique;
    if (o.model == Model::kv && rng.chance(0.7)) return std::string(1, static_cast<char>('a' + rng.below(o.values)));
    return rng.between(1, o.values);
  };
  for (std::size_t i = 0; i < o.ops; ++i) {
    auto [at, process] = free.top();
    free.pop();
    Simulated s;
    Operation& op = s.op;
    op.process = process;
    op.call_us = at + rng.below(o.max_gap + 1);
    op.return_us = op.call_us + rng.below(o.max_duration + 1);
    if (o.keys > 0) op.key = json(rng.below(static_cast<std::int64_t>(o.keys)));
    const auto pick = rng.below(100);
    const bool cas = o.model != Model::register_ && pick >= 75 && pick < 90;
    const bool append = o.model == Model::kv && pick >= 90;
    if (rng.chance(o.read_ratio) && !cas && !append) {
      op.f = Fn::read;
    } else if (cas) {
      op.f = Fn::cas;
      op.arg = json::array({rng.chance(0.2) ? json() : value(), value()});
    } else if (append) {
      op.f = Fn::append;
      op.arg = std::string(1, static_cast<char>('a' + rng.below(3)));
    } else {
      op.f = Fn::write;
      op.arg = value();
    }
    s.effect = op.call_us * 16 + rng.below((op.return_us - op.call_us) * 16 + 1);
    if (rng.chance(o.info)) {
      op.status = Status::info;
      s.happens = rng.chance(0.5);
      s.effect += rng.below(64);  // it may take effect after the client gave up
      ++next_process;             // Jepsen gives a crashed process's successor a new number
      free.emplace(op.return_us, next_process);
    } else {
      free.emplace(op.return_us, process);
    }
    s.tiebreak = rng.next();
    sims.push_back(std::move(s));
  }
  // Apply in effect order to one register per key.
  std::vector<Simulated*> order;
  for (auto& s : sims) order.push_back(&s);
  std::sort(order.begin(), order.end(), [](const Simulated* x, const Simulated* y) {
    return std::tie(x->effect, x->tiebreak) < std::tie(y->effect, y->tiebreak);
  });
  std::map<std::int64_t, json> state;  // by key; absent: unset
  for (Simulated* s : order) {
    Operation& op = s->op;
    const std::int64_t key = op.key ? op.key->get<std::int64_t>() : 0;
    const json current = state.count(key) ? state[key] : json();
    bool ok = true;
    if (s->happens) {
      switch (op.f) {
        case Fn::read:
          op.result = current;
          break;
        case Fn::write:
          state[key] = op.arg;
          break;
        case Fn::cas:
          ok = current == op.arg[0];
          if (ok) state[key] = op.arg[1];
          break;
        case Fn::append:
          ok = current.is_null() || current.is_string();
          if (ok)
            state[key] = current.is_null() ? op.arg : json(current.get<std::string>() + op.arg.get<std::string>());
          break;
        default:
          break;
      }
    }
    if (op.status == Status::info) {
      op.return_us = kNever;
      op.result = json();
    } else if (!ok) {
      op.status = Status::fail;
    }
  }
  std::vector<Operation> ops;
  ops.reserve(sims.size());
  for (auto& s : sims) ops.push_back(std::move(s.op));
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Operation& x, const Operation& y) { return x.call_us < y.call_us; });
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
  return ops;
}

}  // namespace ticksplit::check::testing
