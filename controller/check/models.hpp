// The sequential specifications the linearizability search steps through (register,
// cas-register, kv), and the wording the checkers use for operations in anomaly details.
//
// Values are arbitrary JSON compared by value; the search interns them (canonical text → a small
// integer) so that a model state is one 32-bit id, cheap to hash and to store in the memo.
//
// Reading a null: an ok read of null means the register is unset, as in Porcupine's register
// model. Knossos differs: it treats a nil read as "any value" (it constrains nothing). A history
// whose clients report "not found" as null is therefore checked more strictly here than by
// Knossos; a client that cannot tell should record such reads as info.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"
#include "controller/check/result.hpp"

namespace ticksplit::check {

using ValueId = std::uint32_t;
inline constexpr ValueId kUnset = 0;  // the register's initial state; also what null interns to

// Interns JSON values by their canonical text (objects are key-sorted, so equal values give equal
// text; as in Clojure, 1 and 1.0 differ). Also computes kv appends, which create new values
// during the search, so it counts the bytes it holds for the search's memory budget.
class ValueTable {
 public:
  ValueTable();
  ValueId intern(const nlohmann::json& v);
  [[nodiscard]] const nlohmann::json& value(ValueId id) const { return values_[id]; }
  // `state` with the string `arg` appended; nullopt when either is not a string (unset counts
  // as the empty string, but appending to it gives the appended string itself).
  std::optional<ValueId> append(ValueId state, ValueId arg);
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::unordered_map<std::string, ValueId> ids_;
  std::vector<nlohmann::json> values_;
  std::unordered_map<std::uint64_t, ValueId> appended_;  // state << 32 | arg → result
  std::size_t bytes_ = 0;
};

// One operation as the model sees it, decoded once before the search.
enum class StepKind : std::uint8_t { read, write, cas, append, illegal };
struct ModelOp {
  StepKind kind = StepKind::illegal;
  ValueId a = kUnset;  // read: the value read; write, append: the argument; cas: from
  ValueId b = kUnset;  // cas: to
};

// Decodes `op` for model `m`. Operations the model does not accept and arguments of the wrong
// shape (a cas whose argument is not [from, to]) decode to `illegal`: no state accepts them, so
// an ok one makes the history non-linearizable rather than the checker misbehave.
ModelOp model_op(Model m, const Operation& op, ValueTable& values);

// The model's transition: the state after `op`, or nullopt if `op` is illegal in `state`.
std::optional<ValueId> model_step(const ModelOp& op, ValueId state, ValueTable& values);

// Whether the linearizability search must account for `op`: a failed operation did not take
// effect, and an indeterminate read returns nothing, so neither constrains the history.
bool constrains(const Operation& op) noexcept;

// Wording for anomaly details: "read of 3 by process 4". Details carry no times: an anomaly's
// from_us/to_us and its operations do, and the report prints them from the history's origin.
std::string format_value(const nlohmann::json& v);  // compact JSON, cut at 60 characters
std::string format_state(const nlohmann::json& v);  // as format_value, but null reads "unset"
std::string describe_op(const Operation& op);
// An anomaly for an operation whose value has the wrong shape (the readers normally refuse these).
Anomaly malformed(const Operation& op, const std::string& what);
// Canonical text of a value, the key the set/queue checkers compare elements by.
std::string canonical(const nlohmann::json& v);

}  // namespace ticksplit::check
