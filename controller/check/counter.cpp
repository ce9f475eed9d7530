// Jepsen's counter checker (jepsen.checker/counter): clients add non-negative integers and read
// the total. An ok read must lie between
//   lower = the sum of ok adds that completed before the read was invoked, and
//   upper = the sum of ok and info adds invoked before the read completed;
// with "before" strict, as everywhere in the checker: equal times are concurrent.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "controller/check/checker.hpp"
#include "controller/check/models.hpp"

namespace ticksplit::check {
namespace {

std::optional<std::int64_t> as_integer(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return std::nullopt;
}

std::optional<std::int64_t> as_amount(const nlohmann::json& v) {
  const auto n = as_integer(v);
  return n && *n >= 0 ? n : std::nullopt;
}

// Cumulative sums of adds sorted by a time, saturating (adds are >= 0, so only upwards).
struct Sums {
  std::vector<std::int64_t> times, totals{0};
  void add(std::int64_t t, std::int64_t n) {
    times.push_back(t);
    std::int64_t s = 0;
    if (__builtin_add_overflow(totals.back(), n, &s)) s = std::numeric_limits<std::int64_t>::max();
    totals.push_back(s);
  }
  [[nodiscard]] std::int64_t below(std::int64_t t) const {  // sum over times < t
    return totals[static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin())];
  }
  [[nodiscard]] std::int64_t up_to(std::int64_t t) const {  // sum over times <= t
    return totals[static_cast<std::size_t>(std::upper_bound(times.begin(), times.end(), t) - times.begin())];
  }
};

Sums sums_by(std::vector<std::pair<std::int64_t, std::int64_t>> adds) {
  std::sort(adds.begin(), adds.end());
  Sums s;
  for (const auto& [t, n] : adds) s.add(t, n);
  return s;
}

bool concurrent(const Operation& x, const Operation& y) noexcept {
  return !(x.return_us < y.call_us) && !(y.return_us < x.call_us);
}

}  // namespace

KeyResult check_counter(std::span<const Operation> ops) {
  KeyResult r;
  if (!ops.empty()) r.key = ops.front().key;
  r.op_count = ops.size();
  std::vector<std::pair<std::int64_t, std::int64_t>> completed, invoked;  // (time, amount)
  std::vector<const Operation*> adds;                                     // ok and info, in call order
  std::size_t reads = 0;
  for (const Operation& op : ops) {
    if (op.f != Fn::add || op.status == Status::fail) continue;
    const auto n = as_amount(op.arg);
    if (!n) {
      r.anomalies.push_back(malformed(op, "a counter's adds must be integers >= 0"));
      continue;
    }
    adds.push_back(&op);
    invoked.emplace_back(op.call_us, *n);
    if (op.status == Status::ok) completed.emplace_back(op.return_us, *n);
  }
  const Sums lower_sums = sums_by(std::move(completed)), upper_sums = sums_by(std::move(invoked));
  for (const Operation& op : ops) {
    if (op.f != Fn::read || op.status != Status::ok) continue;
    ++reads;
    const auto value = as_integer(op.result);
    if (!value) {
      r.anomalies.push_back(malformed(op, "a counter's reads must return an integer"));
      continue;
    }
    const std::int64_t lower = lower_sums.below(op.call_us), upper = upper_sums.up_to(op.return_us);
    if (*value >= lower && *value <= upper) continue;
    Anomaly a;
    a.type = "read_out_of_range";
    a.ops = {op.id};
    for (const Operation* add : adds) {
      if (add->call_us > op.return_us) break;  // adds are in call order
      if (concurrent(*add, op)) a.ops.push_back(add->id);
    }
    a.from_us = op.call_us;
    a.to_us = op.return_us;
    a.detail =
        describe_op(op) + " is outside the possible range " + std::to_string(lower) + ".." + std::to_string(upper);
    a.data = {{"value", *value}, {"lower", lower}, {"upper", upper}};
    r.anomalies.push_back(std::move(a));
  }
  r.verdict = r.anomalies.empty() ? Verdict::valid : Verdict::invalid;
  r.stats = {{"adds", adds.size()}, {"reads", reads}, {"anomalies", r.anomalies.size()}};
  return r;
}

}  // namespace ticksplit::check
