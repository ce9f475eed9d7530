// The EDN reader (controller/check/edn.cpp) and Jepsen histories (read_edn.cpp): values → JSON,
// vectors of ops, one op per line, #jepsen.history.Op records, the nemesis skipped, independent
// [key value] tuples, comments and #_, :time ns → µs, errors with their line.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "controller/check/edn.hpp"
#include "controller/check/read.hpp"
#include "check_parse_error.hpp"

using namespace ticksplit::check;
using ticksplit::check::testing::error_of;
using nlohmann::json;

namespace {

const std::string kData = TICKSPLIT_TEST_DATA "/history/";

json edn_value(const std::string& s) { return edn::read_value(s, "v.edn"); }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("edn: scalars") {
  CHECK(edn_value("nil").is_null());
  CHECK(edn_value("true") == true);
  CHECK(edn_value("false") == false);
  CHECK(edn_value("42") == 42);
  CHECK(edn_value("-7") == -7);
  CHECK(edn_value("+7") == 7);
  CHECK(edn_value("12N") == 12);
  CHECK(edn_value("18446744073709551615") == json(18446744073709551615ULL));
  CHECK(edn_value("1.5") == 1.5);
  CHECK(edn_value("-2.5e3") == -2500.0);
  CHECK(edn_value("3.25M") == 3.25);
  CHECK(edn_value("1/4") == 0.25);
  CHECK(edn_value(R"("a \"quoted\"\nline\t\\ \u00e9")") == "a \"quoted\"\nline\t\\ \xc3\xa9");
  CHECK(edn_value(":invoke") == "invoke");
  CHECK(edn_value(":jepsen.history/op") == "jepsen.history/op");
  CHECK(edn_value("a-symbol?") == "a-symbol?");
  CHECK(edn_value("\\a") == "a");
  CHECK(edn_value("\\newline") == "\n");
  CHECK(edn_value("\\\xc3\xa9") == "\xc3\xa9");  // \é
  CHECK(edn_value("\\u0041") == "A");
  CHECK(edn_value("#inst \"2025-11-21T10:00:00.000-00:00\"") == "2025-11-21T10:00:00.000-00:00");
  CHECK(edn_value("#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"") == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
}

TEST_CASE("edn: collections, comments, commas and #_") {
  CHECK(edn_value("[1 2, 3]") == json::array({1, 2, 3}));
  CHECK(edn_value("(1 (2))") == json::array({1, json::array({2})}));
  CHECK(edn_value("#{:a}") == json::array({"a"}));
  CHECK(edn_value("[]") == json::array());
  CHECK(edn_value("{}") == json::object());
  CHECK(edn_value("{:a 1, \"b\" [nil], 3 :c, [1 2] {:d true}}") ==
        json{{"a", 1}, {"b", json::array({nullptr})}, {"3", "c"}, {"[1,2]", {{"d", true}}}});
  CHECK(edn_value("; leading\n[1 ; one\n 2 #_ 3 #_[4 5] 6] ; trailing") == json::array({1, 2, 6}));
  CHECK(edn_value("[#_ #_ 1 2 3]") == json::array({3}));
  CHECK(edn_value("#jepsen.history.Op{:index 0, :type :ok}") == json{{"index", 0}, {"type", "ok"}});
  CHECK(edn_value("#my/tag [1 #other 2]") == json::array({1, 2}));
}

TEST_CASE("edn: errors name the line") {
  CHECK(error_of([] { (void)edn_value("[1\n2\n\"open"); }) == "v.edn:3: unterminated string");
  CHECK(error_of([] { (void)edn_value("\n{:a 1\n :b"); }) == "v.edn:2: a map needs an even number of forms");
  CHECK(error_of([] { (void)edn_value("\n\n[1 2"); }) == "v.edn:3: no closing ']'");
  CHECK(error_of([] { (void)edn_value("\n  )"); }) == "v.edn:2: unexpected ')'");
  CHECK(error_of([] { (void)edn_value("[1\n 2x3]"); }) == "v.edn:2: bad number 2x3");
  CHECK(error_of([] { (void)edn_value("\"\\q\""); }) == "v.edn:1: unknown escape \\q in a string");
  CHECK(error_of([] { (void)edn_value("#_"); }) == "v.edn:1: #_ with nothing to discard");
  CHECK(error_of([] { (void)edn_value("1 2"); }) == "v.edn:1: more than one value");
  CHECK(error_of([] { (void)edn_value(std::string(300, '[')); }) == "v.edn:1: nested too deeply");
  CHECK(error_of([] { (void)edn_value("[\"ok\"\n \"caf\xe9\"]"); }) == "v.edn:2: invalid UTF-8 in a string");
  CHECK(error_of([] { (void)edn_value("\n:k\xff"); }) == "v.edn:2: invalid UTF-8");
  // Strict UTF-8: overlong forms, encoded surrogates and code points past U+10FFFF are refused
  // here, or every report printing the value would throw later.
  CHECK(error_of([] { (void)edn_value("\"\xC0\xAF\""); }) == "v.edn:1: invalid UTF-8 in a string");
  CHECK(error_of([] { (void)edn_value("\"\xED\xA0\x80\""); }) == "v.edn:1: invalid UTF-8 in a string");
  CHECK(error_of([] { (void)edn_value("\"\xF4\x90\x80\x80\""); }) == "v.edn:1: invalid UTF-8 in a string");
  CHECK(error_of([] { (void)edn_value("\"\\ud83d\""); }) == "v.edn:1: a high surrogate \\u escape without its low half");
  CHECK(error_of([] { (void)edn_value("\"\\ude00\""); }) == "v.edn:1: a lone low surrogate \\u escape in a string");
}

TEST_CASE("edn: a \\u surrogate pair is one character") {
  CHECK(edn_value("\"\\ud83d\\ude00\"") == json("\xF0\x9F\x98\x80"));
  CHECK(edn_value("\"\\u00e9\"") == json("\xC3\xA9"));
}

TEST_CASE("jepsen: a vector of op maps over many lines; the nemesis is skipped; :time ns -> us") {
  const auto e = read_edn(slurp(kData + "jepsen_register.edn"), "j.edn");
  REQUIRE(e.ops.size() == 10);  // 12 maps, 2 of them the nemesis's; the #_ one discarded
  CHECK(e.ops[0].invoke);
  CHECK(e.ops[0].f == Fn::write);
  CHECK(e.ops[0].time_us == 1000);
  CHECK(e.ops[0].at.str() == "j.edn:3");
  CHECK(e.ops[2].f == Fn::cas);
  CHECK(e.ops[2].value == json::array({1, 2}));
  CHECK(e.ops[3].at.line == 8);  // after the discarded map on line 7
  CHECK(e.ops[7].status == Status::fail);
  CHECK(e.ops[7].at.line == 14);    // a map over two lines: where it starts
  CHECK(e.ops[8].time_us == 9000);  // 9000123 ns
  CHECK(e.ops[9].time_us == 9999);
  CHECK(e.first_us == 1000);

  const auto h = pair(merge({e}), {Model::cas_register, false});
  REQUIRE(h.ops.size() == 5);
  CHECK(h.ops[1].arg == json::array({1, 2}));
  CHECK(h.ops[2].f == Fn::read);
  CHECK(h.ops[2].arg.is_null());
  CHECK(h.ops[2].result == 2);
  CHECK(h.ops[3].status == Status::fail);
  CHECK(h.ops[3].result.is_null());
}

TEST_CASE("jepsen: one op per line, #jepsen.history.Op records") {
  const auto e = read_edn(slurp(kData + "jepsen_records.edn"), "r.edn");
  REQUIRE(e.ops.size() == 4);
  CHECK(e.ops[0].at.line == 2);
  CHECK(e.ops[1].time_us == 1);  // 1500 ns
  CHECK(e.ops[2].at.line == 5);
  CHECK(e.ops[3].time_us == 4);  // 4999 ns
  CHECK(e.ops[3].value == 3);
  CHECK(is_edn("anything", slurp(kData + "jepsen_records.edn")));
}

TEST_CASE("jepsen: independent [key value] tuples split into key and value") {
  const auto h = read_history({kData + "jepsen_independent.edn"}, {Model::kv, false});  // kv without keys: tuples
  REQUIRE(h.ops.size() == 5);
  CHECK(h.ops[0].key == json(1));
  CHECK(h.ops[0].arg == 5);
  CHECK(h.ops[2].key == json(1));
  CHECK(h.ops[2].arg.is_null());  // [1 nil]
  CHECK(h.ops[2].result == 5);
  CHECK(h.ops[3].key == json(2));
  CHECK(h.ops[3].result == 8);
  CHECK(h.ops[4].f == Fn::cas);
  CHECK(h.ops[4].arg == json::array({5, 6}));
  // --independent does the same for any model
  const auto r = read_history({kData + "jepsen_independent.edn"}, {Model::cas_register, true});
  CHECK(r.ops[4].key == json(1));
  // without it, a cas-register history of tuples is one register whose values are the tuples
  const auto whole = read_history({kData + "jepsen_independent.edn"}, {Model::cas_register, false});
  CHECK_FALSE(whole.ops[0].key);
  CHECK(whole.ops[0].arg == json::array({1, 5}));
}

TEST_CASE("jepsen: errors name the line") {
  const auto err = [](const std::string& text) { return error_of([&] { (void)read_edn(text, "e.edn"); }); };
  CHECK(err("{:type :invoke, :f :read, :process 0, :time 1}\n[1 2]") == "e.edn:2: expected an op map, not 1");
  CHECK(err("{:type :invoke, :f :read, :process 0, :time 1}\n:x") == "e.edn:2: expected an op map, not \"x\"");
  CHECK(err("{:type :invoke, :f :read, :process 0, :time 1}\n\n{:type :ok, :f :read, :process 0}") ==
        "e.edn:3: :time must be an integer (ns since the test began)");
  CHECK(err("{:type :started, :f :read, :process 0, :time 1}") ==
        "e.edn:1: :type must be :invoke, :ok, :fail or :info, not \"started\"");
  CHECK(err("\n{:type :invoke, :f :txn, :process 0, :time 1}") ==
        "e.edn:2: :f must be one of :read :write :cas :append :add :enqueue :dequeue :drain, not \"txn\"");
  CHECK(err("[{:type :invoke, :f :read, :process 0, :time 1}\n {:type :ok :f :read :process 0 :time 2 :value \"x}]") ==
        "e.edn:2: unterminated string");
}

TEST_CASE("jepsen: a history without :time is timed by position; a process keyword is skipped") {
  const auto e = read_edn(
      "{:type :invoke, :f :write, :value 1, :process 0}\n"
      "{:type :info, :f :start, :process :nemesis}\n"
      "{:type :ok, :f :write, :value 1, :process 0}\n",
      "k.edn");
  REQUIRE(e.ops.size() == 2);
  CHECK(e.ops[0].time_us == 0);
  CHECK(e.ops[1].time_us == 1);
  CHECK(e.ops[1].at.line == 3);
}
