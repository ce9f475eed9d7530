// The sequential models (models.cpp): value interning, decoding, transitions and the wording of
// anomaly details.
#include <doctest/doctest.h>

#include "controller/check/models.hpp"
#include "tests/unit/check_history_builder.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::HistoryBuilder;
using json = nlohmann::json;

TEST_CASE("values intern by value") {
  ValueTable t;
  CHECK(t.intern(json()) == kUnset);
  const auto one = t.intern(1);
  CHECK(one != kUnset);
  CHECK(t.intern(1) == one);
  CHECK(t.intern(1.0) != one);  // as in Clojure, 1 and 1.0 differ
  CHECK(t.intern("1") != one);
  CHECK(t.intern(json::parse(R"({"a":1,"b":[2]})")) == t.intern(json::parse(R"({"b":[2],"a":1})")));
  CHECK(t.value(one) == 1);
  CHECK(t.value(kUnset).is_null());
  const auto before = t.bytes();
  t.intern("a new value");
  CHECK(t.bytes() > before);
}

TEST_CASE("appends concatenate strings; anything else is illegal") {
  ValueTable t;
  const auto a = t.intern("a"), b = t.intern("b"), n = t.intern(7);
  CHECK(t.append(kUnset, a) == a);
  const auto ab = t.append(a, b);
  REQUIRE(ab);
  CHECK(t.value(*ab) == "ab");
  CHECK(t.append(a, b) == ab);  // cached
  CHECK(*ab == t.intern("ab"));
  CHECK_FALSE(t.append(n, a));
  CHECK_FALSE(t.append(a, n));
  CHECK_FALSE(t.append(kUnset, n));
}

TEST_CASE("decoding operations per model") {
  ValueTable t;
  auto ops = HistoryBuilder()
                 .write(1, 5, 0, 1)
                 .read(1, 5, 2, 3)
                 .cas(1, 5, 6, 4, 5)
                 .append(1, "x", 6, 7)
                 .op(1, Fn::cas, json(3), json(), Status::ok, 8, 9)
                 .add(1, 1, 10, 11)
                 .done();
  CHECK(model_op(Model::register_, ops[0], t).kind == StepKind::write);
  CHECK(model_op(Model::register_, ops[1], t).kind == StepKind::read);
  CHECK(model_op(Model::register_, ops[2], t).kind == StepKind::illegal);
  CHECK(model_op(Model::cas_register, ops[2], t).kind == StepKind::cas);
  CHECK(model_op(Model::cas_register, ops[3], t).kind == StepKind::illegal);
  CHECK(model_op(Model::kv, ops[3], t).kind == StepKind::append);
  CHECK(model_op(Model::kv, ops[4], t).kind == StepKind::illegal);  // not [from, to]
  CHECK(model_op(Model::kv, ops[5], t).kind == StepKind::illegal);
  CHECK(model_op(Model::set, ops[1], t).kind == StepKind::illegal);  // not a linearizable model
  const ModelOp cas = model_op(Model::cas_register, ops[2], t);
  CHECK(t.value(cas.a) == 5);
  CHECK(t.value(cas.b) == 6);
}

TEST_CASE("transitions") {
  ValueTable t;
  const auto five = t.intern(5), six = t.intern(6);
  CHECK(model_step({StepKind::write, five, kUnset}, kUnset, t) == five);
  CHECK(model_step({StepKind::read, five, kUnset}, five, t) == five);
  CHECK_FALSE(model_step({StepKind::read, five, kUnset}, six, t));
  CHECK(model_step({StepKind::read, kUnset, kUnset}, kUnset, t) == kUnset);  // null reads unset
  CHECK_FALSE(model_step({StepKind::read, kUnset, kUnset}, five, t));
  CHECK(model_step({StepKind::cas, five, six}, five, t) == six);
  CHECK_FALSE(model_step({StepKind::cas, five, six}, six, t));
  CHECK(model_step({StepKind::cas, kUnset, six}, kUnset, t) == six);        // from null: unset
  CHECK(model_step({StepKind::write, kUnset, kUnset}, five, t) == kUnset);  // writing null unsets
  CHECK_FALSE(model_step({StepKind::illegal, kUnset, kUnset}, kUnset, t));
}

TEST_CASE("what the search drops") {
  auto ops = HistoryBuilder()
                 .write(1, 1, 0, 1)
                 .write(1, 1, 0, 1, Status::fail)
                 .write(1, 1, 0, 1, Status::info)
                 .read(1, 1, 0, 1)
                 .read(1, 1, 0, 1, Status::fail)
                 .read(1, 1, 0, 1, Status::info)
                 .done();
  CHECK(constrains(ops[0]));
  CHECK_FALSE(constrains(ops[1]));
  CHECK(constrains(ops[2]));
  CHECK(constrains(ops[3]));
  CHECK_FALSE(constrains(ops[4]));
  CHECK_FALSE(constrains(ops[5]));
}

TEST_CASE("wording") {
  auto ops = HistoryBuilder()
                 .read(4, 3, 12'345'000, 12'346'000)
                 .cas(2, json(), "x", 1'500'000, 1'600'000, Status::info)
                 .write(1, std::string(100, 'a'), 0, 1, Status::fail)
                 .done();
  CHECK(describe_op(ops[2]) == "read of 3 by process 4");
  CHECK(describe_op(ops[1]) == "cas from unset to \"x\" (info) by process 2");
  const auto w = describe_op(ops[0]);
  CHECK(format_value(std::string(100, 'a')).size() == 60);
  CHECK(w.find("aaa...") != std::string::npos);
  CHECK(w.find("(fail)") != std::string::npos);
  CHECK(format_state(json()) == "unset");
  CHECK(format_value(json()) == "null");
  // Cut at 60 characters, never inside a UTF-8 character: the detail must stay printable JSON.
  const auto cut = format_value(std::string(55, 'a') + "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
  CHECK(cut.size() <= 60);
  CHECK(cut.substr(cut.size() - 3) == "...");
  CHECK_NOTHROW((void)json(cut).dump());
}
