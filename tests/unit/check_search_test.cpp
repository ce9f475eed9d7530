// The linearizability search's parts: the memo (memo.hpp), the entry list (entry_list.hpp), the
// starvation check (starvation.hpp) and the candidate rules (candidates.hpp). The search as a
// whole is tested against the oracle in check_property_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>

#include "controller/check/candidates.hpp"
#include "controller/check/entry_list.hpp"
#include "controller/check/memo.hpp"
#include "controller/check/starvation.hpp"
#include "tests/unit/check_history_builder.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::HistoryBuilder;
using json = nlohmann::json;

namespace {

struct Decoded {
  std::vector<Operation> ops;
  std::vector<const Operation*> ptrs;
  std::vector<ModelOp> steps;
  std::vector<std::uint8_t> required;
  ValueTable values;

  Decoded(std::vector<Operation> o, Model m) : ops(std::move(o)) {
    for (const Operation& op : ops) {
      ptrs.push_back(&op);
      steps.push_back(model_op(m, op, values));
      required.push_back(op.status == Status::ok ? 1 : 0);
    }
  }
};

std::vector<std::size_t> walk(const EntryList& l) {
  std::vector<std::size_t> v;
  for (auto e = l.first(); e != EntryList::kNil; e = l.next(e)) v.push_back(l.op(e) * 2 + (l.is_call(e) ? 0 : 1));
  return v;
}

}  // namespace

TEST_CASE("memo: present after insert, full at the byte limit") {
  ConfigSet memo;
  CHECK(memo.insert({1, 2}, 3, 1 << 20) == ConfigSet::Insert::added);
  CHECK(memo.insert({1, 2}, 3, 1 << 20) == ConfigSet::Insert::present);
  CHECK(memo.insert({1, 2}, 4, 1 << 20) == ConfigSet::Insert::added);  // same set, other state
  CHECK(memo.insert({1, 3}, 3, 1 << 20) == ConfigSet::Insert::added);
  CHECK(memo.size() == 3);
  ConfigSet small;
  std::size_t added = 0;
  while (small.insert({added * 7919 + 1, added}, 0, 100'000) == ConfigSet::Insert::added) ++added;
  CHECK(small.bytes() <= 100'000);
  CHECK(added > 1000);
  CHECK(small.insert({1, 0}, 0, 100'000) == ConfigSet::Insert::present);  // still answers
}

TEST_CASE("entry list: time order, calls first at equal times, lift and unlift restore it") {
  Decoded d(HistoryBuilder().write(1, 1, 0, 10).read(2, 1, 10, 20).write(3, 2, 5, 0, Status::info).done(),
            Model::register_);
  EntryList l(d.ptrs, d.required);
  // ops: 0 write [0,10], 1 info write at 5, 2 read [10,20]; the info op is not linked
  CHECK(walk(l) == std::vector<std::size_t>{0, 4, 1, 5});
  CHECK(l.rank(l.return_entry(0)) == 0);
  CHECK(l.rank(l.return_entry(2)) == 1);
  l.lift(0);
  CHECK(walk(l) == std::vector<std::size_t>{4, 5});
  l.lift(2);
  CHECK(walk(l).empty());
  l.lift(1);  // an info op: nothing to unlink
  l.unlift(1);
  l.unlift(2);
  l.unlift(0);
  CHECK(walk(l) == std::vector<std::size_t>{0, 4, 1, 5});
  CHECK(l.call_entry(1) < l.call_entry(2));
}

TEST_CASE("starvation: a read whose value nothing left can produce dooms the configuration") {
  Decoded d(HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 20, 30).read(3, 1, 40, 50).done(), Model::register_);
  Starvation s(d.steps, d.required, d.values);
  const ValueId one = d.values.intern(1), two = d.values.intern(2);
  CHECK_FALSE(s.doomed(kUnset));
  s.lift(0);  // the write of 1: its reader still waits, but the state is 1
  CHECK_FALSE(s.doomed(one));
  s.lift(1);  // then 2: nothing left writes 1
  CHECK(s.doomed(two));
  CHECK(s.starved_value(two) == one);
  std::vector<std::uint8_t> linearized{1, 1, 0};
  CHECK(s.needer(one, linearized) == 2);
  s.unlift(1);
  CHECK_FALSE(s.doomed(one));
  s.unlift(0);
  CHECK_FALSE(s.doomed(kUnset));

  Decoded never(HistoryBuilder().read(1, 7, 0, 10).done(), Model::register_);
  Starvation from_start(never.steps, never.required, never.values);
  CHECK(from_start.doomed(kUnset));

  // appends make any string possible: not tracked
  Decoded kv(HistoryBuilder().read(1, "ab", 0, 10).append(2, "a", 0, 10, Status::info).done(), Model::kv);
  CHECK_FALSE(Starvation(kv.steps, kv.required, kv.values).doomed(kUnset));
}

TEST_CASE("candidates: a legal read is forced; blind writes go first; info writes only when wanted") {
  {  // rule 1
    Decoded d(HistoryBuilder().write(1, 1, 0, 100).read(2, json(), 0, 100).done(), Model::register_);
    EntryList l(d.ptrs, d.required);
    Candidates c(d.steps, d.required, l, d.values);
    std::vector<Candidate> out;
    std::vector<std::uint8_t> linearized(2, 0);
    c.at(kUnset, linearized, d.values, out);
    REQUIRE(out.size() == 1);
    CHECK(d.ops[out[0].op].f == Fn::read);
  }
  {  // rule 3: 5 is never read
    Decoded d(HistoryBuilder().write(1, 1, 0, 100).write(2, 5, 0, 200).read(3, 1, 150, 160).done(), Model::register_);
    EntryList l(d.ptrs, d.required);
    Candidates c(d.steps, d.required, l, d.values);
    std::vector<Candidate> out;
    std::vector<std::uint8_t> linearized(3, 0);
    c.at(kUnset, linearized, d.values, out);
    REQUIRE(out.size() == 1);
    CHECK(d.ops[out[0].op].arg == 5);
  }
  {  // rule 2: the info write of 3 is offered only while a read of 3 is callable
    Decoded d(HistoryBuilder()
                  .write(1, 3, 0, 0, Status::info)
                  .write(2, 1, 0, 100)
                  .read(3, 1, 0, 100)
                  .read(4, 3, 200, 300)
                  .done(),
              Model::register_);
    EntryList l(d.ptrs, d.required);
    Candidates c(d.steps, d.required, l, d.values);
    std::vector<Candidate> out;
    std::vector<std::uint8_t> linearized(4, 0);
    c.at(kUnset, linearized, d.values, out);
    REQUIRE_FALSE(out.empty());
    for (const Candidate& x : out) CHECK(d.ops[x.op].status == Status::ok);
  }
  {  // ... and offered once one is: here the read of 3 runs alongside it
    Decoded d(HistoryBuilder().write(1, 3, 0, 0, Status::info).read(4, 3, 0, 100).done(), Model::register_);
    EntryList l(d.ptrs, d.required);
    Candidates c(d.steps, d.required, l, d.values);
    std::vector<Candidate> out;
    std::vector<std::uint8_t> linearized(2, 0);
    c.at(kUnset, linearized, d.values, out);
    CHECK(std::any_of(out.begin(), out.end(), [&](const Candidate& x) { return d.ops[x.op].status == Status::info; }));
  }
}
