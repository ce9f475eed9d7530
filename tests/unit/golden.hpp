// Reads the golden vectors written by tests/data/make_vectors.escript.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

inline std::vector<std::uint8_t> golden(const std::string& name) {
  std::ifstream in(std::string(TICKSPLIT_TEST_DATA) + "/terms/" + name + ".bin", std::ios::binary);
  if (!in) throw std::runtime_error("missing golden vector " + name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
