// Wing & Gong's list of call and return entries (Wing & Gong, "Testing and Verifying Concurrent
// Objects", JPDC 17(1), 1993), kept as in Lowe 2017 and Porcupine: a doubly-linked list sorted
// by time, calls before returns at equal times (equal times are concurrent). Linearizing an
// operation lifts its call and return out of the list; backtracking unlifts them, in the reverse
// order, which restores the links exactly (the search is a stack, so lifts and unlifts nest).
//
// Only required operations (ok ones) are linked. An optional one (info) has no return entry: it
// may be linearized anywhere after its call, or never, and never forces anything to happen before
// it, so it only needs its call's position, to tell whether it has been called by a given point.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <vector>

#include "controller/check/operation.hpp"

namespace ticksplit::check {

class EntryList {
 public:
  static constexpr std::int32_t kNil = -1;

  // Entries for `ops`, numbered 1.. in time order (0 is the head), so an entry's number is also
  // its position in the history. `required[i]`: ops[i] must be linearized and has a return entry.
  EntryList(std::span<const Operation* const> ops, std::span<const std::uint8_t> required)
      : call_(ops.size()), return_(ops.size(), kNil), linked_(required.begin(), required.end()) {
    struct Raw {
      std::int64_t t;
      int is_return;
      std::int32_t op;
    };
    std::vector<Raw> raw;
    raw.reserve(2 * ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto op = static_cast<std::int32_t>(i);
      raw.push_back({ops[i]->call_us, 0, op});
      if (linked_[i]) raw.push_back({ops[i]->return_us, 1, op});
    }
    std::sort(raw.begin(), raw.end(), [](const Raw& x, const Raw& y) {
      return std::tie(x.t, x.is_return, x.op) < std::tie(y.t, y.is_return, y.op);
    });
    const std::size_t n = raw.size() + 1;
    next_.assign(n, kNil);
    prev_.assign(n, kNil);
    tag_.assign(n, kNil);
    std::int32_t last = 0;
    std::int32_t returns = 0;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      const auto e = static_cast<std::int32_t>(k + 1);
      tag_[e] = raw[k].op * 2 + raw[k].is_return;
      if (raw[k].is_return)
        rank_.push_back(returns++);
      else
        rank_.push_back(kNil);
      (raw[k].is_return ? return_ : call_)[raw[k].op] = e;
      if (!linked_[raw[k].op]) continue;
      next_[last] = e;
      prev_[e] = last;
      last = e;
    }
  }

  [[nodiscard]] std::int32_t first() const noexcept { return next_[0]; }
  [[nodiscard]] std::int32_t next(std::int32_t e) const noexcept { return next_[e]; }
  [[nodiscard]] bool is_call(std::int32_t e) const noexcept { return (tag_[e] & 1) == 0; }
  [[nodiscard]] std::size_t op(std::int32_t e) const noexcept { return static_cast<std::size_t>(tag_[e] >> 1); }
  [[nodiscard]] std::int32_t call_entry(std::size_t op) const noexcept { return call_[op]; }
  [[nodiscard]] std::int32_t return_entry(std::size_t op) const noexcept { return return_[op]; }
  // How many return entries come before return entry `e`.
  [[nodiscard]] std::int32_t rank(std::int32_t e) const noexcept { return rank_[e - 1]; }

  void lift(std::size_t op) noexcept {
    if (!linked_[op]) return;
    remove(call_[op]);
    remove(return_[op]);
  }
  void unlift(std::size_t op) noexcept {
    if (!linked_[op]) return;
    restore(return_[op]);
    restore(call_[op]);
  }

  [[nodiscard]] std::size_t bytes() const noexcept {
    return (next_.capacity() + prev_.capacity() + tag_.capacity() + call_.capacity() + return_.capacity()) *
               sizeof(std::int32_t) +
           linked_.capacity() + rank_.capacity() * sizeof(std::int32_t);
  }

 private:
  void remove(std::int32_t e) noexcept {
    next_[prev_[e]] = next_[e];
    if (next_[e] != kNil) prev_[next_[e]] = prev_[e];
  }
  void restore(std::int32_t e) noexcept {
    next_[prev_[e]] = e;
    if (next_[e] != kNil) prev_[next_[e]] = e;
  }

  std::vector<std::int32_t> next_, prev_, tag_;  // tag: op * 2 + (1 if a return entry)
  std::vector<std::int32_t> rank_;               // per entry - 1: see rank()
  std::vector<std::int32_t> call_, return_;      // per operation: its entries (return: kNil for info)
  std::vector<std::uint8_t> linked_;             // per operation: required, so in the list
};

}  // namespace ticksplit::check
