// The search's choices at a configuration; the rules and why they are sound are in candidates.hpp.
#include "controller/check/candidates.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

namespace ticksplit::check {
namespace {

bool inert(const ModelOp& s, ValueId state) noexcept {
  return (s.kind == StepKind::read && s.a == state) || (s.kind == StepKind::cas && s.a == state && s.b == state);
}

bool same(const ModelOp& x, const ModelOp& y) noexcept { return x.kind == y.kind && x.a == y.a && x.b == y.b; }

}  // namespace

Candidates::Candidates(std::span<const ModelOp> steps, std::span<const std::uint8_t> required, const EntryList& list,
                       const ValueTable& values)
    : steps_(steps), list_(list), blind_(steps.size(), 0) {
  std::vector<ValueId> observed;
  bool appends = false;
  for (const ModelOp& s : steps) {
    if (s.kind == StepKind::read || s.kind == StepKind::cas) observed.push_back(s.a);
    appends = appends || s.kind == StepKind::append;
  }
  std::sort(observed.begin(), observed.end());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const ModelOp& s = steps[i];
    const bool appendable = s.a == kUnset || values.value(s.a).is_string();
    blind_[i] = required[i] && s.kind == StepKind::write &&
                !std::binary_search(observed.begin(), observed.end(), s.a) && !(appends && appendable);
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (required[i]) continue;
    const auto op = static_cast<std::uint32_t>(i);
    switch (steps[i].kind) {
      case StepKind::write: {
        auto& same_value = info_writes_[steps[i].a];
        if (same_value.empty()) info_write_values_.push_back(steps[i].a);
        same_value.push_back(op);
        break;
      }
      case StepKind::cas:
      case StepKind::append:
        info_others_.push_back(op);
        break;
      default:
        break;  // an illegal op can never be linearized
    }
  }
  bytes_ = info_writes_.size() * 64 + (steps.size() + info_write_values_.size()) * sizeof(std::uint32_t) + steps.size();
}

bool Candidates::wanted(ValueId v, const ValueTable& values) const {
  if (any_string_wanted_ && (v == kUnset || values.value(v).is_string())) return true;
  return std::find(wanted_.begin(), wanted_.end(), v) != wanted_.end();
}

std::int32_t Candidates::at(ValueId state, const std::vector<std::uint8_t>& linearized, ValueTable& values,
                            std::vector<Candidate>& out) {
  out.clear();
  callable_.clear();
  std::int32_t e = list_.first();
  for (; e != EntryList::kNil && list_.is_call(e); e = list_.next(e))
    callable_.push_back(static_cast<std::uint32_t>(list_.op(e)));
  const std::int32_t first_return = e;
  const std::int32_t limit = e == EntryList::kNil ? std::numeric_limits<std::int32_t>::max() : e;

  for (const std::uint32_t op : callable_) {  // rule 1
    if (inert(steps_[op], state)) {
      out.push_back({op, state});
      return first_return;
    }
  }

  wanted_.clear();
  any_string_wanted_ = false;
  auto observe = [&](const ModelOp& s) {
    if (s.kind == StepKind::read || s.kind == StepKind::cas) wanted_.push_back(s.a);
    if (s.kind == StepKind::append && values.value(s.a).is_string()) any_string_wanted_ = true;
  };
  for (const std::uint32_t op : callable_) observe(steps_[op]);
  for (const std::uint32_t op : info_others_) {
    if (list_.call_entry(op) >= limit) break;
    if (!linearized[op]) observe(steps_[op]);
  }
  std::sort(wanted_.begin(), wanted_.end());
  wanted_.erase(std::unique(wanted_.begin(), wanted_.end()), wanted_.end());

  ranked_.clear();
  const std::size_t due = first_return == EntryList::kNil ? steps_.size() : list_.op(first_return);
  for (const std::uint32_t op : callable_) {
    const auto next = model_step(steps_[op], state, values);
    if (!next) continue;
    const int rank = op == due ? 0 : (*next != state && wanted(*next, values)) ? 1 : 3;
    ranked_.push_back({rank, list_.return_entry(op), {op, *next}});
  }
  info_candidates(state, limit, linearized, values);

  // Rule 3: with only writes to choose from, a callable blind write goes first, alone.
  const auto observer = [&](const Ranked& r) {
    const StepKind k = steps_[r.c.op].kind;
    return k == StepKind::cas || k == StepKind::append;
  };
  if (std::none_of(ranked_.begin(), ranked_.end(), observer)) {
    for (const Ranked& r : ranked_) {
      if (blind_[r.c.op]) {
        out.push_back(r.c);
        return first_return;
      }
    }
  }
  // Identical ok operations: only the one due first (see the header).
  auto key = [&](const Ranked& r) {
    return std::tuple(steps_[r.c.op].kind, steps_[r.c.op].a, steps_[r.c.op].b, r.info, r.deadline);
  };
  std::sort(ranked_.begin(), ranked_.end(), [&](const Ranked& x, const Ranked& y) { return key(x) < key(y); });
  ranked_.erase(std::unique(ranked_.begin(), ranked_.end(),
                            [&](const Ranked& x, const Ranked& y) {
                              return !x.info && !y.info && same(steps_[x.c.op], steps_[y.c.op]);
                            }),
                ranked_.end());
  std::sort(ranked_.begin(), ranked_.end(), [](const Ranked& x, const Ranked& y) {
    return x.rank != y.rank ? x.rank < y.rank : x.deadline < y.deadline;
  });
  for (const Ranked& r : ranked_) out.push_back(r.c);
  return first_return;
}

// Rule 2: info operations whose new state a minimal observer wants, one of each kind.
void Candidates::info_candidates(ValueId state, std::int32_t limit, const std::vector<std::uint8_t>& linearized,
                                 ValueTable& values) {
  auto earliest_write = [&](ValueId v, int rank) {
    if (v == state) return;
    const auto it = info_writes_.find(v);
    if (it == info_writes_.end()) return;
    for (const std::uint32_t op : it->second) {
      if (list_.call_entry(op) >= limit) return;
      if (linearized[op]) continue;
      ranked_.push_back({rank, list_.call_entry(op), {op, v}, true});
      return;
    }
  };
  if (any_string_wanted_ || all_optional_) {
    for (const ValueId v : info_write_values_) {
      if (wanted(v, values))
        earliest_write(v, 2);
      else if (all_optional_)
        earliest_write(v, 4);
    }
  } else {
    for (const ValueId v : wanted_) earliest_write(v, 2);
  }
  seen_.clear();
  for (const std::uint32_t op : info_others_) {
    if (list_.call_entry(op) >= limit) break;
    if (linearized[op] ||
        std::any_of(seen_.begin(), seen_.end(), [&](const ModelOp& s) { return same(s, steps_[op]); }))
      continue;
    const auto next = model_step(steps_[op], state, values);
    if (!next || *next == state) continue;
    const bool useful = wanted(*next, values);
    if (!useful && !all_optional_) continue;
    seen_.push_back(steps_[op]);
    ranked_.push_back({useful ? 2 : 4, list_.call_entry(op), {op, *next}, true});
  }
}

}  // namespace ticksplit::check
