// Early pruning for the linearizability search: a configuration is doomed when an ok operation
// still to be linearized needs a value (a read of v, a cas from v), no operation left can produce
// v (a write of v, a cas to v) and the state is not v. Nothing can then make that operation
// legal, so no linearization completes from there, and the search can backtrack at once instead
// of at the operation's return entry, perhaps thousands of configurations later. This is what
// keeps a busy register (50 clients) from drowning in orders that used up a write too early.
//
// Appends produce strings nobody can list in advance, so when a history has appends, operations
// that need a string (or unset, which appends accept) are not tracked.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "controller/check/models.hpp"

namespace ticksplit::check {

class Starvation {
 public:
  static constexpr ValueId kNone = ~ValueId{0};
  static constexpr std::size_t kNoOp = ~std::size_t{0};

  // `required[i]`: operation i must be linearized (an ok one).
  Starvation(std::span<const ModelOp> steps, std::span<const std::uint8_t> required, const ValueTable& values)
      : need_(steps.size(), kNone), produce_(steps.size(), kNone) {
    bool appends = false;
    ValueId top = 0;
    for (const ModelOp& s : steps) {
      appends = appends || s.kind == StepKind::append;
      top = std::max({top, s.a, s.b});
    }
    needers_.assign(top + 1, 0);
    producers_.assign(top + 1, 0);
    at_.assign(top + 1, 0);
    starved_.reserve(top + 1);  // so lift and unlift never allocate
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const ModelOp& s = steps[i];
      const bool ok = required[i] != 0;
      const bool untracked = appends && (s.a == kUnset || values.value(s.a).is_string());
      if (ok && !untracked && (s.kind == StepKind::read || s.kind == StepKind::cas)) need_[i] = s.a;
      if (s.kind == StepKind::write) produce_[i] = s.a;
      if (s.kind == StepKind::cas) produce_[i] = s.b;
      if (need_[i] != kNone) ++needers_[need_[i]];
      if (produce_[i] != kNone) ++producers_[produce_[i]];
    }
    for (ValueId v = 0; v <= top; ++v)
      if (needers_[v] > 0 && producers_[v] == 0) starve(v, +1);
    // the needers of each value, in call order: by_value_[first_[v] .. first_[v + 1])
    first_.assign(top + 2, 0);
    for (ValueId v = 0; v <= top; ++v) first_[v + 1] = first_[v] + needers_[v];
    by_value_.resize(first_[top + 1]);
    std::vector<std::uint32_t> fill(first_.begin(), first_.end() - 1);
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (need_[i] != kNone) by_value_[fill[need_[i]]++] = static_cast<std::uint32_t>(i);
  }

  // The operation was linearized / unlinearized.
  void lift(std::size_t op) {
    if (const ValueId v = need_[op]; v != kNone && --needers_[v] == 0 && producers_[v] == 0) starve(v, -1);
    if (const ValueId v = produce_[op]; v != kNone && --producers_[v] == 0 && needers_[v] > 0) starve(v, +1);
  }
  void unlift(std::size_t op) {
    if (const ValueId v = produce_[op]; v != kNone && producers_[v]++ == 0 && needers_[v] > 0) starve(v, -1);
    if (const ValueId v = need_[op]; v != kNone && needers_[v]++ == 0 && producers_[v] == 0) starve(v, +1);
  }

  [[nodiscard]] bool doomed(ValueId state) const noexcept {
    return starved_.size() > 1 || (starved_.size() == 1 && starved_[0] != state);
  }
  // With doomed(state): a value some operation waits for in vain.
  [[nodiscard]] ValueId starved_value(ValueId state) const noexcept {
    for (const ValueId v : starved_)
      if (v != state) return v;
    return kNone;
  }
  // An operation, not linearized, that needs `v`: the first in call order (looking at no more
  // than a thousand), or kNoOp.
  [[nodiscard]] std::size_t needer(ValueId v, const std::vector<std::uint8_t>& linearized) const noexcept {
    if (v >= needers_.size()) return kNoOp;
    const std::uint32_t end = std::min(first_[v + 1], first_[v] + 1000);
    for (std::uint32_t k = first_[v]; k < end; ++k)
      if (!linearized[by_value_[k]]) return by_value_[k];
    return kNoOp;
  }
  [[nodiscard]] std::size_t bytes() const noexcept {
    return (need_.capacity() + produce_.capacity() + needers_.capacity() + producers_.capacity() + first_.capacity() +
            by_value_.capacity() + starved_.capacity() + at_.capacity()) *
           sizeof(ValueId);
  }

 private:
  void starve(ValueId v, int d) {
    if (d > 0) {
      at_[v] = static_cast<std::uint32_t>(starved_.size());
      starved_.push_back(v);
    } else {
      const ValueId last = starved_.back();
      starved_[at_[v]] = last;
      at_[last] = at_[v];
      starved_.pop_back();
    }
  }

  std::vector<ValueId> need_, produce_;             // per operation: the value it needs / may produce
  std::vector<std::uint32_t> needers_, producers_;  // per value: operations left that need / produce it
  std::vector<std::uint32_t> first_, by_value_;     // per value: the operations that need it
  std::vector<ValueId> starved_;                    // values needed that nothing left produces
  std::vector<std::uint32_t> at_;                   // per value: its index in starved_, if there
};

}  // namespace ticksplit::check
