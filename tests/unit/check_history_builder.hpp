// Hand-written histories for the checker's tests and benchmark: one call per operation, times in
// µs; `done()` sorts by call time and numbers the operations as History::ops would.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "controller/check/operation.hpp"

namespace ticksplit::check::testing {

class HistoryBuilder {
 public:
  using json = nlohmann::json;

  HistoryBuilder& op(std::int64_t process, Fn f, json arg, json result, Status s, std::int64_t call, std::int64_t ret) {
    Operation o;
    o.process = process;
    o.f = f;
    o.arg = std::move(arg);
    o.result = s == Status::ok ? std::move(result) : json();
    o.status = s;
    o.call_us = call;
    o.return_us = s == Status::info ? kNever : ret;
    o.invoked_at = {"test", ops_.size() + 1};
    ops_.push_back(std::move(o));
    return *this;
  }
  HistoryBuilder& write(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::write, std::move(v), json(), s, call, ret);
  }
  HistoryBuilder& read(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::read, json(), std::move(v), s, call, ret);
  }
  HistoryBuilder& cas(std::int64_t p, json from, json to, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::cas, json::array({std::move(from), std::move(to)}), json(), s, call, ret);
  }
  HistoryBuilder& append(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::append, std::move(v), json(), s, call, ret);
  }
  HistoryBuilder& add(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::add, std::move(v), json(), s, call, ret);
  }
  HistoryBuilder& enqueue(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::enqueue, std::move(v), json(), s, call, ret);
  }
  HistoryBuilder& dequeue(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::dequeue, json(), std::move(v), s, call, ret);
  }
  HistoryBuilder& drain(std::int64_t p, json v, std::int64_t call, std::int64_t ret, Status s = Status::ok) {
    return op(p, Fn::drain, json(), std::move(v), s, call, ret);
  }

  [[nodiscard]] std::vector<Operation> done() const {
    auto ops = ops_;
    std::stable_sort(ops.begin(), ops.end(),
                     [](const Operation& x, const Operation& y) { return x.call_us < y.call_us; });
    for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
    return ops;
  }

 private:
  std::vector<Operation> ops_;
};

// The operation ids of `ops` whose f and process match, for assertions about anomalies.
inline std::size_t id_of(const std::vector<Operation>& ops, Fn f, std::int64_t process) {
  for (const auto& o : ops)
    if (o.f == f && o.process == process) return o.id;
  return ops.size();
}

}  // namespace ticksplit::check::testing
