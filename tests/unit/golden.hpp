// Reads the golden vectors written by tests/data/make_vectors.escript.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

inline std::vector<std::uint8_t> golden(const std::string& name) {
  std::ifstream in(std::string(TICKSPLIT_TEST_DATA) + "/terms/" + name + ".bin", std::ios::binary);
  if (!in) throw std::runtime_error("missing golden vector " + name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

#include <sstream>

// The rows of a text vector under tests/data/golden/: whitespace-separated fields, '#' lines
// and blank lines skipped.
inline std::vector<std::vector<std::string>> golden_rows(const std::string& name) {
  std::ifstream in(std::string(TICKSPLIT_TEST_DATA) + "/golden/" + name);
  if (!in) throw std::runtime_error("missing golden vector file " + name);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string f; fields >> f;) row.push_back(f);
    if (!row.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

// "a,b,c" -> {a, b, c}
inline std::vector<std::string> golden_split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Drop sets as the vectors write them: "a=b+c;d=e" -> {a: {b, c}, d: {e}}; "-" is none.
inline std::map<std::string, std::set<std::string>> golden_drop_sets(const std::string& text) {
  std::map<std::string, std::set<std::string>> g;
  if (text == "-") return g;
  for (const auto& entry : golden_split(text, ';')) {
    const auto eq = entry.find('=');
    for (const auto& p : golden_split(entry.substr(eq + 1), '+')) g[entry.substr(0, eq)].insert(p);
  }
  return g;
}
