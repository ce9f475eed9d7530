// The search loop; see search.hpp.
#include "controller/check/search.hpp"

#include <algorithm>

namespace ticksplit::check {
namespace {

constexpr std::uint64_t kClockEvery = 1024;  // steps between looks at the clock

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

Search::Search(const SearchInput& in, ValueTable& values, const SearchLimits& limits)
    : in_(in),
      values_(values),
      limits_(limits),
      list_(in.ops, in.required),
      candidates_(in.steps, in.required, list_, values),
      starvation_(in.steps, in.required, values),
      linearized_(in.ops.size(), 0) {
  std::uint64_t seed = 0x7469636B73706C74ULL;  // fixed: the same history always takes the same path
  keys_.reserve(in.ops.size());
  for (std::size_t i = 0; i < in.ops.size(); ++i) keys_.push_back({splitmix64(seed), splitmix64(seed)});
  stack_.reserve(in.ops.size());
  required_ = pending_ = static_cast<std::size_t>(std::count(in.required.begin(), in.required.end(), 1));
}

std::size_t Search::fixed_bytes() const noexcept {
  return list_.bytes() + candidates_.bytes() + starvation_.bytes() + linearized_.capacity() +
         stack_.capacity() * sizeof(Frame) + keys_.capacity() * sizeof(Fingerprint) + values_.bytes();
}

nlohmann::json Search::stats() const {
  return {{"configurations", configurations()},
          {"cache_entries", memo_.size()},
          {"steps", steps_},
          {"backtracks", backtracks_},
          {"doomed", doomed_},
          {"search_bytes", peak_bytes()}};
}

// Undoes the last linearization; the search goes on with the candidate after it.
bool Search::backtrack() {
  if (stack_.empty()) return false;
  const Frame f = stack_.back();
  stack_.pop_back();
  ++backtracks_;
  state_ = f.state;
  set_ ^= keys_[f.op];
  linearized_[f.op] = 0;
  list_.unlift(f.op);
  starvation_.unlift(f.op);
  if (in_.required[f.op]) ++pending_;
  next_ = f.tried + 1;
  return true;
}

// Remembers an operation the doomed configuration starves, if it is the deepest yet.
void Search::note_starved(ValueId state) {
  if (starved_op_ != Starvation::kNoOp && stack_.size() < starved_depth_) return;
  const std::size_t op = starvation_.needer(starvation_.starved_value(state), linearized_);
  if (op == Starvation::kNoOp) return;
  starved_op_ = op;
  starved_depth_ = stack_.size();
}

// Depth-first over configurations: at each, try the candidates from `next_` on; the first that
// leads to a configuration neither seen before nor doomed is linearized. When none does, the
// configuration is a dead end: backtrack. A configuration's candidates are recomputed when the
// search comes back to it, which costs less than keeping them for every level of a stack as deep
// as the history.
SearchEnd Search::search(std::size_t max_states) {
  if (starvation_.doomed(state_)) {
    note_starved(state_);
    starved_from_start_ = stack_.empty();
    return SearchEnd::nonlinearizable;
  }
  std::vector<Candidate> cands;
  std::uint64_t first_success = 0;
  while (true) {
    if (++steps_ % kClockEvery == 0 && std::chrono::steady_clock::now() >= limits_.deadline)
      return states_.empty() ? SearchEnd::out_of_time : SearchEnd::linearizable;
    if (pending_ == 0) {
      if (max_states == 0) return SearchEnd::linearizable;
      if (std::find(states_.begin(), states_.end(), state_) == states_.end()) states_.push_back(state_);
      depth_ = std::max(depth_, stack_.size());
      if (first_success == 0) first_success = steps_;
      if (states_.size() >= max_states || steps_ - first_success > extra_steps_) return SearchEnd::linearizable;
    }
    // Once every required operation is linearized, listing states: any optional one may follow.
    candidates_.offer_all_optional(pending_ == 0);
    const std::int32_t first_return = candidates_.at(state_, linearized_, values_, cands);
    furthest_ = std::max<std::size_t>(
        furthest_, first_return == EntryList::kNil ? required_ : static_cast<std::size_t>(list_.rank(first_return)));
    if (fixed_bytes() > limits_.max_bytes) return SearchEnd::out_of_memory;  // kv appends grow the value table
    bool advanced = false;
    for (; next_ < cands.size() && !advanced; ++next_) {
      const Candidate c = cands[next_];
      Fingerprint grown = set_;
      grown ^= keys_[c.op];
      const auto r = memo_.insert(grown, c.next, limits_.max_bytes - fixed_bytes());
      if (r == ConfigSet::Insert::full) return SearchEnd::out_of_memory;
      if (r == ConfigSet::Insert::present) continue;
      starvation_.lift(c.op);
      if (starvation_.doomed(c.next)) {
        linearized_[c.op] = 1;
        note_starved(c.next);
        linearized_[c.op] = 0;
        starvation_.unlift(c.op);
        ++doomed_;
        continue;
      }
      stack_.push_back({c.op, state_, static_cast<std::uint32_t>(next_)});
      state_ = c.next;
      set_ = grown;
      linearized_[c.op] = 1;
      list_.lift(c.op);
      if (in_.required[c.op]) --pending_;
      advanced = true;
    }
    if (advanced) {
      next_ = 0;
    } else if (!backtrack()) {
      return states_.empty() ? SearchEnd::nonlinearizable : SearchEnd::linearizable;
    }
  }
}

}  // namespace ticksplit::check
