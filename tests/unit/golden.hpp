// Reads the golden vectors written by tests/data/make_vectors.escript.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
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
