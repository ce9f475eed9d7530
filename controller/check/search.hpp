// The linearizability search proper: Wing & Gong's depth-first search over configurations as
// improved by Lowe (Wing & Gong, "Testing and Verifying Concurrent Objects", JPDC 17(1), 1993;
// Lowe, "Testing for Linearizability", CCPE 29(4), 2017), the structure Porcupine uses: a list
// of call and return entries (entry_list.hpp), a stack of (operation, state before it), and a
// memo of the configurations (linearized set, state) already explored (memo.hpp). Which
// operations it tries at a configuration is candidates.hpp's business; starvation.hpp cuts
// configurations from which no linearization can complete.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "controller/check/candidates.hpp"
#include "controller/check/entry_list.hpp"
#include "controller/check/memo.hpp"
#include "controller/check/models.hpp"
#include "controller/check/starvation.hpp"

namespace ticksplit::check {

// What to search: operations in call order, decoded for the model. A required operation (an ok
// one) must be linearized, between its call and its return; an optional one (info) may be
// linearized after its call, or never.
struct SearchInput {
  std::vector<const Operation*> ops;
  std::vector<ModelOp> steps;
  std::vector<std::uint8_t> required;
};

struct SearchLimits {
  std::chrono::steady_clock::time_point deadline;
  std::size_t max_bytes = 0;
};

enum class SearchEnd { linearizable, nonlinearizable, out_of_time, out_of_memory };

class Search {
 public:
  Search(const SearchInput& in, ValueTable& values, const SearchLimits& limits);

  // Looks for one linearization.
  SearchEnd run() { return search(0); }
  // Lists up to `max_states` distinct states (success_states()) the model can be in once every
  // required operation is linearized, with any optional ones after them; gives up on more after
  // `extra_steps` steps past the first.
  SearchEnd collect(std::size_t max_states, std::uint64_t extra_steps) {
    extra_steps_ = extra_steps;
    return search(max_states);
  }

  // For explaining a failure: the most return entries (in time order) any configuration it
  // entered had passed, so the history up to there is linearizable; and an operation that was
  // starved where the search got deepest (Starvation::kNoOp if none was).
  [[nodiscard]] std::size_t furthest() const noexcept { return furthest_; }
  [[nodiscard]] std::size_t starved_op() const noexcept { return starved_op_; }
  // Whether that operation was starved from the start: nothing in the history produces what it needs.
  [[nodiscard]] bool starved_from_start() const noexcept { return starved_from_start_; }

  [[nodiscard]] const std::vector<ValueId>& success_states() const noexcept { return states_; }
  [[nodiscard]] std::size_t success_depth() const noexcept { return depth_; }
  [[nodiscard]] std::size_t configurations() const noexcept { return memo_.size() + 1; }  // + the empty one
  [[nodiscard]] std::size_t peak_bytes() const noexcept { return fixed_bytes() + memo_.bytes(); }
  [[nodiscard]] nlohmann::json stats() const;

 private:
  SearchEnd search(std::size_t max_states);
  bool backtrack();
  void note_starved(ValueId state);
  [[nodiscard]] std::size_t fixed_bytes() const noexcept;

  struct Frame {
    std::uint32_t op;
    ValueId state;        // before the operation
    std::uint32_t tried;  // its index among the candidates of the configuration before it
  };

  const SearchInput& in_;
  ValueTable& values_;
  SearchLimits limits_;
  EntryList list_;
  Candidates candidates_;
  Starvation starvation_;
  std::vector<std::uint8_t> linearized_;
  std::vector<Fingerprint> keys_;
  std::vector<Frame> stack_;
  ConfigSet memo_;
  // the current configuration
  ValueId state_ = kUnset;
  Fingerprint set_;
  std::size_t required_ = 0;
  std::size_t pending_ = 0;  // required operations not linearized
  std::size_t next_ = 0;     // the next candidate to try
  // collect()
  std::vector<ValueId> states_;
  std::size_t depth_ = 0;
  std::uint64_t extra_steps_ = 0;
  std::uint64_t steps_ = 0, backtracks_ = 0, doomed_ = 0;
  std::size_t furthest_ = 0;
  std::size_t starved_op_ = Starvation::kNoOp, starved_depth_ = 0;
  bool starved_from_start_ = false;
};

}  // namespace ticksplit::check
