// Pairing invokes with completions (controller/check/pair.cpp): Jepsen's process rules, value
// shapes, keys, and every malformed case refused with its line.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "controller/check/read.hpp"

using namespace ticksplit::check;
using nlohmann::json;

namespace {

// One op line: "invoke 0 write 1" → {"kind":"op","type":"invoke","process":0,"f":"write","value":1}.
struct L {
  std::string type;
  std::int64_t process;
  std::string f;
  json value = nullptr;
  std::optional<json> key = std::nullopt;
};

History paired(const std::vector<L>& lines, Model m, bool independent = false) {
  std::ostringstream text;
  std::int64_t t = 0;
  for (const auto& l : lines) {
    json j{{"time_us", t += 10},   {"kind", "op"}, {"type", l.type},
           {"process", l.process}, {"f", l.f},     {"value", l.value}};
    if (l.key) j["key"] = *l.key;
    text << j.dump() << "\n";
  }
  std::istringstream in(text.str());
  return pair(merge({read_jsonl(in, "p.jsonl")}), {m, independent});
}

std::string error_of(const std::vector<L>& lines, Model m, bool independent = false) {
  try {
    (void)paired(lines, m, independent);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("pair: arguments from the invoke, results from the completion, in call order") {
  const auto h = paired({{"invoke", 0, "write", 1},
                         {"invoke", 1, "read"},
                         {"ok", 1, "read", 1},
                         {"invoke", 2, "read"},
                         {"ok", 0, "write", 1},
                         {"fail", 2, "read", 5},
                         {"invoke", 1, "cas", {1, 2}},
                         {"ok", 1, "cas", {1, 2}}},
                        Model::cas_register);
  REQUIRE(h.ops.size() == 4);
  for (std::size_t i = 0; i < h.ops.size(); ++i) CHECK(h.ops[i].id == i);
  CHECK(h.ops[0].f == Fn::write);
  CHECK(h.ops[0].arg == 1);
  CHECK(h.ops[0].result.is_null());
  CHECK(h.ops[0].call_us == 10);
  CHECK(h.ops[0].return_us == 50);
  CHECK(h.ops[0].invoked_at.str() == "p.jsonl:1");
  CHECK(h.ops[0].completed_at->str() == "p.jsonl:5");
  CHECK(h.ops[1].arg.is_null());
  CHECK(h.ops[1].result == 1);
  CHECK(h.ops[2].status == Status::fail);
  CHECK(h.ops[2].result.is_null());  // a failed read returns nothing
  CHECK(h.ops[3].arg == json::array({1, 2}));
}

TEST_CASE("pair: an invoke never completed becomes info; after an info the process is done") {
  const auto h = paired({{"invoke", 0, "write", 1},
                         {"info", 0, "write", 1},
                         {"invoke", 3, "write", 2},  // client 0 continues as process 3 (0 + 3 clients)
                         {"ok", 3, "write", 2},
                         {"invoke", 1, "read"}},
                        Model::register_);
  REQUIRE(h.ops.size() == 3);
  CHECK(h.ops[0].status == Status::info);
  CHECK(h.ops[0].return_us == kNever);
  CHECK(h.ops[0].completed_at->line == 2);
  CHECK(h.ops[1].status == Status::ok);
  CHECK(h.ops[2].status == Status::info);
  CHECK(h.ops[2].return_us == kNever);
  CHECK_FALSE(h.ops[2].completed_at);
  CHECK(h.ops[2].result.is_null());

  CHECK(error_of({{"invoke", 0, "write", 1}, {"info", 0, "write", 1}, {"invoke", 0, "read"}}, Model::register_) ==
        "p.jsonl:3: process 0 invokes after its info at p.jsonl:2 (after an info a process never invokes again: "
        "continue as a new process)");
}

TEST_CASE("pair: malformed histories are refused with the line") {
  const auto reg = Model::register_;
  CHECK(error_of({{"invoke", 0, "write", 1}, {"invoke", 0, "write", 2}}, reg) ==
        "p.jsonl:2: process 0 invokes while its invoke at p.jsonl:1 is still open");
  CHECK(error_of({{"invoke", 0, "write", 1}, {"ok", 0, "write", 1}, {"ok", 0, "write", 1}}, reg) ==
        "p.jsonl:3: a completion (ok write) of process 0 with no open invoke");
  CHECK(error_of({{"invoke", 0, "write", 1}, {"ok", 0, "read", 1}}, reg) ==
        "p.jsonl:2: completes read but process 0 invoked write at p.jsonl:1");
  CHECK(error_of({{"invoke", 0, "read"}, {"ok", -1, "read", 1}}, reg) == "p.jsonl:2: process must not be negative: -1");
  CHECK(error_of({{"invoke", 0, "read"}, {"ok", 0, "read", 1}, {"invoke", 0, "cas", {1, 2}}}, reg) ==
        "p.jsonl:3: model register has no operation cas");
  CHECK(error_of({{"invoke", 0, "enqueue", 1}}, Model::set) == "p.jsonl:1: model set has no operation enqueue");
  CHECK(error_of({{"invoke", 0, "cas", json::array({1, 2, 3})}}, Model::cas_register) ==
        "p.jsonl:1: a cas value must be [from, to], not [1,2,3]");
  CHECK(error_of({{"invoke", 0, "read"}, {"ok", 0, "read", 3}}, Model::set) ==
        "p.jsonl:2: an ok read must return an array, not 3");
  CHECK(error_of({{"invoke", 0, "read"}, {"fail", 0, "read", 3}}, Model::set) == "(no error)");
  CHECK(error_of({{"invoke", 0, "drain"}, {"ok", 0, "drain", {{"a", 1}}}}, Model::queue) ==
        "p.jsonl:2: an ok drain must return an array, not {\"a\":1}");
  CHECK(error_of({{"invoke", 0, "add", "one"}}, Model::counter) ==
        "p.jsonl:1: a counter add needs an integer, not \"one\"");
  CHECK(error_of({{"invoke", 0, "add", -2}}, Model::counter) ==
        "p.jsonl:1: a counter add must be an integer from 0 to 2^63 - 1, not -2 (the counter checker bounds reads "
        "by the adds)");
  CHECK(error_of({{"invoke", 0, "add", json(std::uint64_t{1} << 63)}}, Model::counter) ==
        "p.jsonl:1: a counter add must be an integer from 0 to 2^63 - 1, not 9223372036854775808 (the counter "
        "checker bounds reads by the adds)");
  CHECK(error_of({{"invoke", 0, "add", 2}, {"ok", 0, "add", 2}, {"invoke", 0, "read"}, {"ok", 0, "read", "2"}},
                 Model::counter) == "p.jsonl:4: an ok counter read must return an integer, not \"2\"");
  CHECK(error_of({{"invoke", 0, "add", "x"}}, Model::set) == "(no error)");  // set elements are any value
}

TEST_CASE("pair: keys") {
  const auto h = paired({{"invoke", 0, "write", 1, "a"}, {"invoke", 1, "write", 2, json(7)}, {"ok", 0, "write", 1}},
                        Model::register_);
  CHECK(h.ops[0].key == json("a"));
  CHECK(h.ops[1].key == json(7));

  CHECK(error_of({{"invoke", 0, "write", 1, "a"}, {"invoke", 1, "write", 2}}, Model::register_) ==
        "p.jsonl:2: this op has no key, but the op at p.jsonl:1 has one");
  CHECK(error_of({{"invoke", 0, "write", 1}, {"invoke", 1, "write", 2, "a"}}, Model::register_) ==
        "p.jsonl:2: this op has a key, but the op at p.jsonl:1 has none");
  CHECK(error_of({{"invoke", 0, "write", 1, "a"}, {"ok", 0, "write", 1, "b"}}, Model::register_) ==
        "p.jsonl:2: completes key \"b\" but the invoke at p.jsonl:1 has key \"a\"");
  CHECK(error_of({{"invoke", 0, "write", 1}, {"ok", 0, "write", 1, "b"}}, Model::register_) ==
        "p.jsonl:2: a completion with a key whose invoke at p.jsonl:1 has none");
}

TEST_CASE("pair: independent tuples (kv without key fields, or --independent)") {
  const auto h = paired({{"invoke", 0, "write", {"x", 1}},
                         {"ok", 0, "write", {"x", 1}},
                         {"invoke", 1, "read", {"x", nullptr}},
                         {"info", 1, "read"},  // a bare null completion keeps the invoke's key
                         {"invoke", 2, "cas", {"y", {1, 2}}}},
                        Model::kv);
  REQUIRE(h.ops.size() == 3);
  CHECK(h.ops[0].key == json("x"));
  CHECK(h.ops[0].arg == 1);
  CHECK(h.ops[1].key == json("x"));
  CHECK(h.ops[2].key == json("y"));
  CHECK(h.ops[2].arg == json::array({1, 2}));

  CHECK(paired({{"invoke", 0, "add", {"s", 5}}}, Model::set, true).ops[0].key == json("s"));
  CHECK(error_of({{"invoke", 0, "write", 5}}, Model::kv) ==
        "p.jsonl:1: expected a [key value] tuple (independent keys), not 5");
  CHECK(error_of({{"invoke", 0, "write", {"x", 1}, "k"}}, Model::register_, true) ==
        "p.jsonl:1: an op with a `key` field, but the values are to be [key value] tuples (--independent, or model "
        "kv without key fields)");
  CHECK(error_of({{"invoke", 0, "write", {"x", 1}}, {"ok", 0, "write", {"z", 1}}}, Model::kv) ==
        "p.jsonl:2: completes key \"z\" but the invoke at p.jsonl:1 has key \"x\"");
  // kv with key fields: values are plain
  CHECK(paired({{"invoke", 0, "write", 1, "k"}}, Model::kv).ops[0].arg == 1);
}
