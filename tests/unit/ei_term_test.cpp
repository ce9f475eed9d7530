// Printing terms (common/ei/term.cpp): whole for error messages and tests, capped for logs.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/ei/term.hpp"

using namespace ticksplit::ei;

TEST_CASE("to_string prints Erlang-like text") {
  CHECK(to_string(tuple({atom("ok"), atom("Quoted"), 42, binary("hi")})) == "{ok,'Quoted',42,<<\"hi\">>}");
  CHECK(to_string(improper_list({1, 2}, atom("t"))) == "[1,2|t]");
  CHECK(to_string(atom_map({{"a", 1}})) == "#{a => 1}");
  CHECK(to_string(binary(std::string("\x01\xff", 2))) == "<<1,255>>");
}

TEST_CASE("log_text caps what a peer's term can add to the log") {
  // A 10 MB binary of 0xFF printed whole is about 40 MB of "255,"; a log line keeps 512 chars.
  const auto huge = binary(std::string(10 * 1024 * 1024, '\xff'));
  const auto text = log_text(huge);
  CHECK(text.size() == 512 + 3);
  CHECK(text.rfind("<<255,255,", 0) == 0);
  CHECK(text.substr(text.size() - 3) == "...");

  // Long containers show their first elements, deep ones stop at the depth.
  std::vector<Term> many(1000, Term(7));
  CHECK(log_text(list(many)) == "[" + [] {
          std::string s;
          for (int i = 0; i < 32; ++i) s += "7,";
          return s;
        }() + "...]");
  Term deep = atom("x");
  for (int i = 0; i < 20; ++i) deep = tuple({deep});
  CHECK(log_text(deep) == "{{{{{{{{...}}}}}}}}");

  // Small terms print as to_string does.
  const auto small = tuple({atom("partition"), atom_map({{"peers", list({binary("198.51.100.12")})}})});
  CHECK(log_text(small) == to_string(small));
  CHECK(to_string(huge).size() > 10 * 1024 * 1024);  // whole, when asked for
}
