// A small reader of EDN (https://github.com/edn-format/edn), enough for Jepsen histories.
// Values become JSON: nil → null, booleans, integers, floats (ratios too), strings, characters
// → one-character strings, keywords and symbols → strings without the colon, vectors, lists
// and sets → arrays, maps → objects (keys stringified: a keyword's name, a string as is,
// anything else as its JSON text), other tagged literals (#inst, #uuid, records such as
// #jepsen.history.Op{...}) → their value. `;` comments, commas as whitespace and `#_` discard
// are supported. Errors throw ParseError naming FILE:LINE.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ticksplit::check::edn {

struct Form {
  nlohmann::json value;
  std::size_t line = 0;  // where the form starts
};

// Every top-level form of `text`, where a top-level vector or list is replaced by its
// elements: Jepsen writes a history either as one op map per line or as one vector of maps.
std::vector<Form> read_top_level(std::string_view text, const std::string& file);

// Exactly one value (surrounding whitespace and comments allowed).
nlohmann::json read_value(std::string_view text, const std::string& file = "<edn>");

}  // namespace ticksplit::check::edn
