// The linearizability search (linearizable.cpp) on hand-made histories with known verdicts, each
// also confirmed by the brute-force oracle.
#include <doctest/doctest.h>

#include "controller/check/checker.hpp"
#include "tests/unit/check_history_builder.hpp"
#include "tests/unit/check_oracle.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::HistoryBuilder;
using json = nlohmann::json;

namespace {

const Budget kBudget{10'000, 256};

Verdict verdict(Model m, const std::vector<Operation>& ops) {
  const auto r = check_linearizable(m, ops, kBudget);
  const bool oracle = oracle::linearizable(m, ops);
  CHECK_MESSAGE(oracle == (r.verdict == Verdict::valid), "the oracle disagrees");
  if (r.verdict == Verdict::invalid) {
    REQUIRE(r.anomalies.size() == 1);
    CHECK(r.anomalies[0].type == "nonlinearizable");
  }
  return r.verdict;
}

}  // namespace

TEST_CASE("an empty history and one without constraints are linearizable") {
  CHECK(verdict(Model::register_, {}) == Verdict::valid);
  auto ops = HistoryBuilder().write(1, 1, 0, 10, Status::fail).read(2, json(), 20, 30, Status::info).done();
  CHECK(verdict(Model::register_, ops) == Verdict::valid);
}

TEST_CASE("sequential reads see the last write") {
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(1, 1, 20, 30).done()) == Verdict::valid);
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(1, 2, 20, 30).done()) == Verdict::invalid);
}

TEST_CASE("a read of null means unset (Porcupine), not any value (Knossos)") {
  CHECK(verdict(Model::register_, HistoryBuilder().read(1, json(), 0, 10).write(1, 1, 20, 30).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(2, json(), 20, 30).done()) ==
        Verdict::invalid);
  // Concurrent with the first write, null is fine.
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(2, json(), 5, 30).done()) == Verdict::valid);
}

TEST_CASE("a read of a value never written is not linearizable") {
  auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 0, 10).read(3, 3, 5, 8).done();
  CHECK(verdict(Model::register_, ops) == Verdict::invalid);
}

TEST_CASE("concurrent writes: later reads must agree on the winner") {
  SUBCASE("both reads see the same write") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 0, 10).read(3, 2, 20, 30).read(4, 2, 40, 50).done();
    CHECK(verdict(Model::register_, ops) == Verdict::valid);
  }
  SUBCASE("reads in real-time order disagree") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 0, 10).read(3, 1, 20, 30).read(4, 2, 40, 50).done();
    CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  }
  SUBCASE("concurrent reads after both writes disagree") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 0, 10).read(3, 1, 20, 30).read(4, 2, 20, 30).done();
    CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  }
  SUBCASE("reads overlapping the writes may see either order") {
    auto ops = HistoryBuilder()
                   .write(1, 1, 0, 100)
                   .write(2, 2, 0, 100)
                   .read(3, 1, 10, 20)
                   .read(4, 2, 30, 40)
                   .read(3, 1, 50, 60)
                   .done();
    CHECK(verdict(Model::register_, ops) == Verdict::invalid);  // 1, 2, 1 needs three writes
    auto ok = HistoryBuilder()
                  .write(1, 1, 0, 100)
                  .write(2, 2, 0, 100)
                  .read(3, 1, 10, 20)
                  .read(4, 2, 30, 40)
                  .read(3, 2, 50, 60)
                  .done();
    CHECK(verdict(Model::register_, ok) == Verdict::valid);
  }
}

// Porcupine's register tests (porcupine_test.go, TestRegisterModel), initial 0 read as unset.
TEST_CASE("Porcupine's classic register histories") {
  auto ok = HistoryBuilder().write(0, 100, 0, 100).read(1, 100, 25, 75).read(2, json(), 30, 60).done();
  CHECK(verdict(Model::register_, ok) == Verdict::valid);
  auto bad = HistoryBuilder().write(0, 200, 0, 100).read(1, 200, 10, 30).read(2, json(), 40, 90).done();
  CHECK(verdict(Model::register_, bad) == Verdict::invalid);
}

// Herlihy & Wing 1990, the register figure: a write overlapped by reads; once a read has
// returned the new value, a read that starts later cannot return the old one.
TEST_CASE("Herlihy & Wing: no going back after a read saw the new value") {
  auto ops = HistoryBuilder().write(1, 0, 0, 5).write(1, 1, 10, 100).read(2, 1, 20, 30).read(3, 0, 40, 50).done();
  CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  auto overlapping =
      HistoryBuilder().write(1, 0, 0, 5).write(1, 1, 10, 100).read(2, 1, 20, 45).read(3, 0, 40, 50).done();
  CHECK(verdict(Model::register_, overlapping) == Verdict::valid);
}

TEST_CASE("equal times are concurrent") {
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(2, json(), 10, 20).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).read(2, json(), 11, 20).done()) ==
        Verdict::invalid);
}

TEST_CASE("indeterminate (info) writes") {
  SUBCASE("one that must have taken effect") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 20, 0, Status::info).read(3, 2, 30, 40).done();
    CHECK(verdict(Model::register_, ops) == Verdict::valid);
  }
  SUBCASE("one that must not have taken effect (yet)") {
    auto ops = HistoryBuilder()
                   .write(1, 1, 0, 10)
                   .write(2, 2, 20, 0, Status::info)
                   .read(3, 1, 30, 40)
                   .read(3, 1, 50, 60)
                   .done();
    CHECK(verdict(Model::register_, ops) == Verdict::valid);
  }
  SUBCASE("it takes effect once: 2 then 1 again is not linearizable") {
    auto ops = HistoryBuilder()
                   .write(1, 1, 0, 10)
                   .write(2, 2, 20, 0, Status::info)
                   .read(3, 2, 30, 40)
                   .read(3, 1, 50, 60)
                   .done();
    CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  }
  SUBCASE("it cannot take effect before its invoke") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).read(3, 2, 30, 40).write(2, 2, 50, 0, Status::info).done();
    CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  }
  SUBCASE("an info read constrains nothing") {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).op(2, Fn::read, json(), 7, Status::info, 20, 0).done();
    CHECK(verdict(Model::register_, ops) == Verdict::valid);
  }
}

TEST_CASE("a failed write did not take effect") {
  auto ops = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 20, 30, Status::fail).read(3, 2, 40, 50).done();
  CHECK(verdict(Model::register_, ops) == Verdict::invalid);
  auto read_old = HistoryBuilder().write(1, 1, 0, 10).write(2, 2, 20, 30, Status::fail).read(3, 1, 40, 50).done();
  CHECK(verdict(Model::register_, read_old) == Verdict::valid);
}

TEST_CASE("cas-register") {
  CHECK(verdict(Model::cas_register,
                HistoryBuilder().write(1, 1, 0, 10).cas(2, 1, 2, 20, 30).read(3, 2, 40, 50).done()) == Verdict::valid);
  CHECK(verdict(Model::cas_register, HistoryBuilder().write(1, 3, 0, 10).cas(2, 1, 2, 20, 30).done()) ==
        Verdict::invalid);
  // from null compares against the unset state
  CHECK(verdict(Model::cas_register, HistoryBuilder().cas(1, json(), 5, 0, 10).read(2, 5, 20, 30).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::cas_register, HistoryBuilder().write(1, 1, 0, 10).cas(2, json(), 5, 20, 30).done()) ==
        Verdict::invalid);
  // a failed cas did not take effect
  CHECK(verdict(Model::cas_register,
                HistoryBuilder().write(1, 1, 0, 10).cas(2, 1, 2, 20, 30, Status::fail).read(3, 2, 40, 50).done()) ==
        Verdict::invalid);
  // two cas from the same value cannot both succeed
  CHECK(verdict(Model::cas_register,
                HistoryBuilder().write(1, 1, 0, 10).cas(2, 1, 2, 20, 30).cas(3, 1, 3, 20, 30).done()) ==
        Verdict::invalid);
  // a register has no cas: an ok one is an illegal transition, not a crash
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, 1, 0, 10).cas(2, 1, 2, 20, 30).done()) == Verdict::invalid);
}

TEST_CASE("a cas whose argument is not [from, to] is illegal, not a crash") {
  for (const json& arg : {json(5), json::array({1}), json::array({1, 2, 3}), json::object()}) {
    auto ops = HistoryBuilder().write(1, 1, 0, 10).op(2, Fn::cas, arg, json(), Status::ok, 20, 30).done();
    CHECK(verdict(Model::cas_register, ops) == Verdict::invalid);
    auto info = HistoryBuilder().write(1, 1, 0, 10).op(2, Fn::cas, arg, json(), Status::info, 20, 30).done();
    CHECK(verdict(Model::cas_register, info) == Verdict::valid);
  }
}

TEST_CASE("kv: append builds strings; non-strings are illegal") {
  CHECK(
      verdict(Model::kv, HistoryBuilder().append(1, "a", 0, 10).append(1, "b", 20, 30).read(2, "ab", 40, 50).done()) ==
      Verdict::valid);
  CHECK(
      verdict(Model::kv, HistoryBuilder().append(1, "a", 0, 10).append(1, "b", 20, 30).read(2, "ba", 40, 50).done()) ==
      Verdict::invalid);
  CHECK(verdict(Model::kv, HistoryBuilder().append(1, "a", 0, 10).append(2, "b", 0, 10).read(3, "ba", 40, 50).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::kv, HistoryBuilder()
                               .write(1, "x", 0, 10)
                               .append(2, "y", 20, 30)
                               .cas(3, "xy", "z", 40, 50)
                               .read(4, "z", 60, 70)
                               .done()) == Verdict::valid);
  CHECK(verdict(Model::kv, HistoryBuilder().write(1, 1, 0, 10).append(2, "x", 20, 30).done()) == Verdict::invalid);
  CHECK(verdict(Model::kv, HistoryBuilder().append(2, 7, 20, 30).done()) == Verdict::invalid);
  CHECK(verdict(Model::kv, HistoryBuilder().append(2, "x", 20, 30, Status::info).read(3, "x", 40, 50).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::cas_register, HistoryBuilder().append(1, "a", 0, 10).done()) == Verdict::invalid);
}

TEST_CASE("values compare as JSON values, whatever their shape") {
  const json obj = {{"b", 1}, {"a", json::array({1, 2})}};
  const json same = json::parse(R"({"a":[1,2],"b":1})");
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, obj, 0, 10).read(2, same, 20, 30).done()) ==
        Verdict::valid);
  CHECK(verdict(Model::register_, HistoryBuilder().write(1, "1", 0, 10).read(2, 1, 20, 30).done()) == Verdict::invalid);
}

TEST_CASE("the anomaly names the first operation that cannot be linearized") {
  // 1 is written, then read; the read of 3 by process 4 has no write of 3 anywhere.
  auto ops = HistoryBuilder()
                 .write(1, 1, 1'000'000, 1'000'010)
                 .read(2, 1, 1'000'020, 1'000'030)
                 .write(3, 2, 1'000'040, 1'000'100)
                 .read(4, 3, 12'345'000, 12'345'100)
                 .write(5, 4, 12'345'050, 12'346'000)
                 .write(6, 5, 12'346'001, 12'346'002, Status::info)
                 .read(7, 5, 12'347'000, 12'347'010)
                 .done();
  const auto r = check_linearizable(Model::register_, ops, kBudget);
  REQUIRE(r.verdict == Verdict::invalid);
  REQUIRE(r.anomalies.size() == 1);
  const Anomaly& a = r.anomalies[0];
  CHECK(a.type == "nonlinearizable");
  REQUIRE(a.ops.size() == 2);
  CHECK(ops[a.ops[0]].process == 4);
  CHECK(ops[a.ops[1]].process == 5);  // the write concurrent with it
  CHECK(a.from_us == 12'345'000);
  CHECK(a.to_us == 12'345'100);
  CHECK(a.data["states"] == json::array({2, 4}));  // before and after the write concurrent with it
  CHECK(a.data["prefix_ops"] == 4);
  CHECK(a.detail == "read of 3 by process 4 cannot be linearized: reachable states were 2, 4");
  CHECK(r.op_count == ops.size());
}

TEST_CASE("the anomaly lists open info operations as concurrent, and unset states as null") {
  auto ops = HistoryBuilder().write(1, 1, 0, 0, Status::info).read(2, 2, 10, 20).done();
  const auto r = check_linearizable(Model::register_, ops, kBudget);
  REQUIRE(r.verdict == Verdict::invalid);
  const Anomaly& a = r.anomalies[0];
  CHECK(a.ops == std::vector<std::size_t>{1, 0});
  CHECK(a.data["states"] == json::array({nullptr, 1}));
  CHECK(a.detail == "read of 2 by process 2 cannot be linearized: reachable states were unset, 1");
}

namespace {
// Many concurrent writes, each of whose values some concurrent read returns, then reads of 1 and
// of 2 one after the other, once all of them are over: the search must try every subset of the
// write-read pairs before it can say no, 2^n configurations.
std::vector<Operation> hard(int pairs) {
  HistoryBuilder b;
  for (int i = 0; i < pairs; ++i) b.write(i, i + 1, 0, 100).read(100 + i, i + 1, 0, 100);
  b.read(1000, 1, 200, 210).read(1000, 2, 220, 230);
  return b.done();
}
}  // namespace

TEST_CASE("a hard history ends unknown when the budget runs out, never hangs") {
  const auto small = check_linearizable(Model::register_, hard(8), kBudget);
  CHECK(small.verdict == Verdict::invalid);

  const auto timed = check_linearizable(Model::register_, hard(40), Budget{50, 1024});
  CHECK(timed.verdict == Verdict::unknown);
  CHECK(timed.reason.rfind("search budget of 50 ms reached after ", 0) == 0);
  CHECK(timed.reason.find(" configurations") != std::string::npos);
  CHECK(timed.anomalies.empty());

  const auto memory = check_linearizable(Model::register_, hard(40), Budget{60'000, 2});
  CHECK(memory.verdict == Verdict::unknown);
  CHECK(memory.reason.rfind("search budget of 2 MB reached after ", 0) == 0);
  CHECK(memory.stats["search_bytes"].get<std::size_t>() <= 2u << 20);

  const auto none = check_linearizable(Model::register_, hard(3), Budget{60'000, 0});
  CHECK(none.verdict == Verdict::unknown);
}

TEST_CASE("check_one dispatches the linearizable models") {
  auto ops = HistoryBuilder().write(1, 1, 0, 10).read(1, 2, 20, 30).done();
  CHECK(check_one(Model::register_, ops, kBudget).verdict == Verdict::invalid);
  CHECK(check_one(Model::cas_register, ops, kBudget).verdict == Verdict::invalid);
  CHECK(check_one(Model::kv, ops, kBudget).verdict == Verdict::invalid);
}
