// Register, cas-register and kv as sequential specifications over interned values.
#include "controller/check/models.hpp"

#include "controller/check/text.hpp"

namespace ticksplit::check {
namespace {
// What one interned value costs beyond its text: the hash node, the bucket, the json in the
// vector. An estimate, but the memory budget only needs the right order of magnitude.
constexpr std::size_t kValueOverhead = 96;
constexpr std::size_t kAppendOverhead = 48;
constexpr std::size_t kMaxShown = 60;
}  // namespace

// Both readers hand over valid UTF-8 only (nlohmann's parser checks JSON Lines, edn.cpp its
// own strings), so dumping cannot throw here.
std::string canonical(const nlohmann::json& v) { return v.dump(); }

ValueTable::ValueTable() { values_.emplace_back(nullptr); }

ValueId ValueTable::intern(const nlohmann::json& v) {
  if (v.is_null()) return kUnset;
  std::string text = canonical(v);
  if (const auto it = ids_.find(text); it != ids_.end()) return it->second;
  // Ids stay below 2^32 - 1 (the memo's empty marker): the memory budget runs out long before.
  const auto id = static_cast<ValueId>(values_.size());
  bytes_ += 2 * text.size() + kValueOverhead;
  ids_.emplace(std::move(text), id);
  values_.push_back(v);
  return id;
}

std::optional<ValueId> ValueTable::append(ValueId state, ValueId arg) {
  const std::uint64_t key = (std::uint64_t{state} << 32) | arg;
  if (const auto it = appended_.find(key); it != appended_.end()) return it->second;
  if (!values_[arg].is_string()) return std::nullopt;
  ValueId result = arg;
  if (state != kUnset) {
    if (!values_[state].is_string()) return std::nullopt;
    // Build the string before interning: intern may reallocate values_.
    std::string joined = values_[state].get_ref<const std::string&>() + values_[arg].get_ref<const std::string&>();
    result = intern(nlohmann::json(std::move(joined)));
  }
  appended_.emplace(key, result);
  bytes_ += kAppendOverhead;
  return result;
}

ModelOp model_op(Model m, const Operation& op, ValueTable& values) {
  ModelOp r;
  const bool linearizable_model = m == Model::register_ || m == Model::cas_register || m == Model::kv;
  if (!linearizable_model || !model_accepts(m, op.f)) return r;
  switch (op.f) {
    case Fn::read:
      r = {StepKind::read, values.intern(op.result), kUnset};
      break;
    case Fn::write:
      r = {StepKind::write, values.intern(op.arg), kUnset};
      break;
    case Fn::cas:
      if (op.arg.is_array() && op.arg.size() == 2)
        r = {StepKind::cas, values.intern(op.arg[0]), values.intern(op.arg[1])};
      break;
    case Fn::append:
      r = {StepKind::append, values.intern(op.arg), kUnset};  // a non-string argument fails in the step
      break;
    default:
      break;
  }
  return r;
}

std::optional<ValueId> model_step(const ModelOp& op, ValueId state, ValueTable& values) {
  switch (op.kind) {
    case StepKind::read:
      return op.a == state ? std::optional(state) : std::nullopt;
    case StepKind::write:
      return op.a;
    case StepKind::cas:
      return op.a == state ? std::optional(op.b) : std::nullopt;  // from null: unset
    case StepKind::append:
      return values.append(state, op.a);
    case StepKind::illegal:
      return std::nullopt;
  }
  return std::nullopt;
}

bool constrains(const Operation& op) noexcept {
  return op.status == Status::ok || (op.status == Status::info && op.f != Fn::read);
}

std::string format_value(const nlohmann::json& v) { return shown(v, kMaxShown); }

std::string format_state(const nlohmann::json& v) { return v.is_null() ? "unset" : format_value(v); }

std::string describe_op(const Operation& op) {
  std::string s = fn_name(op.f);
  const bool returns_value = op.f == Fn::read || op.f == Fn::dequeue || op.f == Fn::drain;
  if (returns_value) {
    if (op.status == Status::ok) s += " of " + format_value(op.result);
  } else if (op.f == Fn::cas && op.arg.is_array() && op.arg.size() == 2) {
    s += " from " + format_state(op.arg[0]) + " to " + format_state(op.arg[1]);
  } else {
    s += " of " + format_value(op.arg);
  }
  if (op.status != Status::ok) s += std::string(" (") + status_name(op.status) + ")";
  s += " by process " + std::to_string(op.process);
  return s;
}

Anomaly malformed(const Operation& op, const std::string& what) {
  Anomaly a;
  a.type = "malformed";
  a.ops = {op.id};
  a.from_us = op.call_us;
  a.to_us = op.return_us == kNever ? op.call_us : op.return_us;
  a.detail = describe_op(op) + ": " + what;
  return a;
}

}  // namespace ticksplit::check
