// A brute-force linearizability checker for small histories, written apart from models.cpp and
// linearizable.cpp so that the two can check each other: its own model (states are JSON values,
// not interned ids) and no memo, no entry list. It follows the definition (Herlihy & Wing,
// "Linearizability: A Correctness Condition for Concurrent Objects", TOPLAS 1990) with the
// checker's reading of faults: for every subset of the indeterminate (info) operations that
// might have taken effect, is there an order of the ok operations and that subset, consistent
// with real-time order (A before B iff A returned strictly before B was called), in which the
// model accepts every operation? Exponential: fine for up to ~12 operations.
//
// Options make deliberately broken variants ("mutants"), to show that the random tests would
// catch a checker with that bug.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"

namespace ticksplit::check::oracle {

struct Options {
  bool real_time = true;        // false: any order (a checker that ignores real time)
  bool info_may_vanish = true;  // false: every info operation must take effect
  bool info_may_happen = true;  // false: no info operation takes effect
};

using State = std::optional<nlohmann::json>;  // nullopt: unset

inline State from_json(const nlohmann::json& v) { return v.is_null() ? State() : State(v); }
inline bool holds(const State& s, const nlohmann::json& v) { return v.is_null() ? !s : s && *s == v; }

// The sequential specification, on plain JSON. Returns false if `op` is illegal in `s`.
inline bool apply(Model m, const Operation& op, State& s) {
  const bool has_cas = m == Model::cas_register || m == Model::kv;
  switch (op.f) {
    case Fn::read:
      return holds(s, op.result);
    case Fn::write:
      s = from_json(op.arg);
      return true;
    case Fn::cas:
      if (!has_cas || !op.arg.is_array() || op.arg.size() != 2 || !holds(s, op.arg[0])) return false;
      s = from_json(op.arg[1]);
      return true;
    case Fn::append:
      if (m != Model::kv || !op.arg.is_string()) return false;
      if (!s)
        s = op.arg;
      else if (s->is_string())
        s = nlohmann::json(s->get<std::string>() + op.arg.get<std::string>());
      else
        return false;
      return true;
    default:
      return false;
  }
}

namespace detail {
inline bool order_exists(Model m, const std::vector<const Operation*>& chosen, std::uint32_t placed, const State& s,
                         const Options& o) {
  const std::uint32_t all = (std::uint32_t{1} << chosen.size()) - 1;
  if (placed == all) return true;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (placed >> i & 1) continue;
    bool minimal = true;  // nothing still unplaced must come before chosen[i]
    for (std::size_t j = 0; o.real_time && j < chosen.size() && minimal; ++j)
      if (j != i && !(placed >> j & 1) && chosen[j]->return_us < chosen[i]->call_us) minimal = false;
    if (!minimal) continue;
    State next = s;
    if (apply(m, *chosen[i], next) && order_exists(m, chosen, placed | std::uint32_t{1} << i, next, o)) return true;
  }
  return false;
}
}  // namespace detail

inline bool linearizable(Model m, std::span<const Operation> ops, const Options& o = {}) {
  std::vector<const Operation*> must, maybe;
  for (const Operation& op : ops) {
    if (op.status == Status::fail) continue;  // did not take effect
    if (op.status == Status::ok)
      must.push_back(&op);
    else if (op.f != Fn::read)
      maybe.push_back(&op);  // an info read returns nothing
  }
  const std::uint32_t subsets = std::uint32_t{1} << maybe.size();
  for (std::uint32_t subset = 0; subset < subsets; ++subset) {
    if (!o.info_may_vanish && subset != subsets - 1) continue;
    if (!o.info_may_happen && subset != 0) continue;
    auto chosen = must;
    for (std::size_t i = 0; i < maybe.size(); ++i)
      if (subset >> i & 1) chosen.push_back(maybe[i]);
    if (detail::order_exists(m, chosen, 0, State(), o)) return true;
  }
  return false;
}

// The operation an anomaly should name: the ok operation whose return (in time order, ties in
// call order) ends the longest linearizable prefix of the history. The prefix up to the k-th
// return requires the operations that returned by then, lets those called by then but still
// pending take effect or not (as info; a pending read constrains nothing), and leaves out the
// rest. Returns the operation's id, or nullopt for a linearizable history.
inline std::optional<std::size_t> first_unlinearizable(Model m, std::span<const Operation> ops) {
  std::vector<const Operation*> done;
  for (const Operation& op : ops)
    if (op.status == Status::ok) done.push_back(&op);
  std::stable_sort(done.begin(), done.end(),
                   [](const Operation* x, const Operation* y) { return x->return_us < y->return_us; });
  for (std::size_t k = 1; k <= done.size(); ++k) {
    const std::int64_t end = done[k - 1]->return_us;
    std::vector<Operation> prefix;
    for (const Operation& op : ops) {
      if (op.call_us > end) continue;
      const bool required = std::find(done.begin(), done.begin() + static_cast<std::ptrdiff_t>(k), &op) !=
                            done.begin() + static_cast<std::ptrdiff_t>(k);
      Operation copy = op;
      if (!required && copy.status == Status::ok) {
        copy.status = Status::info;
        copy.return_us = kNever;
      }
      prefix.push_back(copy);
    }
    if (!linearizable(m, prefix)) return done[k - 1]->id;
  }
  return std::nullopt;
}

}  // namespace ticksplit::check::oracle
