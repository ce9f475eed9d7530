// The reader tests' way to look at a refusal: the ParseError's text, or "(no error)".
#pragma once

#include <string>

#include "controller/check/read.hpp"

namespace ticksplit::check::testing {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace ticksplit::check::testing
