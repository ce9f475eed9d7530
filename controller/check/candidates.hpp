// Which operations the linearizability search tries at a configuration, and in which order.
// Below, "ok" operations are the required ones and "info" ones the optional ones (when the search
// checks a prefix of the history, operations still pending at its end are optional too).
//
// Wing & Gong's search tries every minimal operation (one called before the first pending return)
// in list order. The verdict does not depend on the order, since the search backtracks over every
// choice; the time it takes does, and with 50 clients on one register call order is a poor guess.
// Two reductions cut choices that can never be needed, and an order finds the linearization of a
// valid history without backtracking in the common case:
//
// 1. An ok read that is legal now is linearized now, and nothing else is tried here. Sound: in any
//    linearization from this configuration the read can be moved to the front. It is minimal, so
//    nothing pending must precede it in real time, and it leaves the state unchanged, so every
//    operation it jumps over sees the state it saw before. (Also a cas from x to x.)
//
// 2. An info operation is tried only if it changes the state and some other minimal operation
//    that observes the state (a read, a cas, an append) accepts the new one. Sound: take any
//    linearization and drop, one at a time, the info operations that change nothing, come last,
//    or are followed by a write; what remains is still a linearization, and in it every info
//    operation is followed by an observer that accepts its state, and that observer is minimal
//    where the info operation was linearized (info operations have no return entry, so
//    linearizing one does not change which operations are minimal). Among info operations that
//    are identical but for their call time only the earliest called is tried: both stay callable
//    from here on, so they are interchangeable.
//
// 3. A blind write, an ok write of a value nothing in the history observes (no read of it, no cas
//    from it, no append that could take it), is linearized now, and nothing else tried, when
//    every other candidate is a write too. Sound: in any linearization a blind write is followed
//    by a write or by nothing (nothing else accepts its value), so it can be dropped from where it
//    is and put in front of the first operation, which is a write: nothing observes the value it
//    leaves in either place. Blind writes are common (about a third of a busy register's writes
//    are overwritten before anyone reads them) and are what else sends the search down wrong
//    orders that it only discovers much later.
//
// 4. Of ok operations that are identical but for their times, only the one due first is tried.
//    Sound: both are callable here, so in any linearization the two can swap places; the one due
//    first takes the earlier place, which it can since the other could.
//
// The order: the operation whose return entry comes first (it must be linearized now at the
// latest), then operations whose new state a minimal observer wants, then the info operations of
// rule 2, then the rest by return time (earliest deadline first).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "controller/check/entry_list.hpp"
#include "controller/check/models.hpp"

namespace ticksplit::check {

struct Candidate {
  std::uint32_t op;
  ValueId next;  // the state after it
};

class Candidates {
 public:
  // `required[i]`: operation i must be linearized (an ok one); the others are optional (info).
  Candidates(std::span<const ModelOp> steps, std::span<const std::uint8_t> required, const EntryList& list,
             const ValueTable& values);

  // The candidates at the configuration given by the list's links, `state` and `linearized` (per
  // operation), best first, into `out`. Returns the first pending return entry: the operation
  // the search is stuck on if none of them leads anywhere.
  std::int32_t at(ValueId state, const std::vector<std::uint8_t>& linearized, ValueTable& values,
                  std::vector<Candidate>& out);

  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  // Whether to also offer the info operations rule 2 leaves out, last: to list the states
  // reachable at a point, not to decide linearizability.
  void offer_all_optional(bool all) noexcept { all_optional_ = all; }

 private:
  struct Ranked {
    int rank;
    std::int32_t deadline;  // return entry (call entry for an info operation)
    Candidate c;
    bool info = false;
  };

  [[nodiscard]] bool wanted(ValueId v, const ValueTable& values) const;
  void info_candidates(ValueId state, std::int32_t limit, const std::vector<std::uint8_t>& linearized,
                       ValueTable& values);

  std::span<const ModelOp> steps_;
  const EntryList& list_;
  std::unordered_map<ValueId, std::vector<std::uint32_t>> info_writes_;  // by value, in call order
  std::vector<ValueId> info_write_values_;                               // the keys, in first-call order
  std::vector<std::uint32_t> info_others_;                               // info cas and appends, in call order
  std::vector<std::uint8_t> blind_;                                      // per operation: rule 3
  std::size_t bytes_ = 0;
  // scratch, kept between calls to save allocations
  std::vector<std::uint32_t> callable_;
  std::vector<ValueId> wanted_;
  bool any_string_wanted_ = false;
  bool all_optional_ = false;
  std::vector<Ranked> ranked_;
  std::vector<ModelOp> seen_;
};

}  // namespace ticksplit::check
