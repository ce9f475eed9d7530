// A recording fake of the fault engine's kernel seam: the drop map as a std::map, clocks the
// test moves by hand, a log of every map operation, and packet() doing what the classifier
// does (drop inside the window with the entry's probability, count, note the first packet
// after it). Its draws are a fixed sequence, so a test's counts do not vary between runs.
#pragma once

#include <arpa/inet.h>

#include <map>
#include <string>
#include <vector>

#include "agent/fault/backend.hpp"
#include "agent/fault/engine.hpp"

namespace ticksplit::test {

class FakeKernel final : public agent::fault::Backend {
 public:
  agent::fault::Clocks clocks{1'700'000'000'000'000, 5'000'000'000};
  std::map<agent::bpf::DropKey, agent::bpf::DropValue, agent::fault::KeyLess> map;
  std::vector<std::string> log;
  int fail_writes_after = -1;  // >= 0: that many writes succeed, then each fails
  std::uint64_t draws = 0x9e3779b97f4a7c15ULL;  // the state of bpf_get_prandom_u32's stand-in

  [[nodiscard]] std::string name() const override { return "fake"; }
  agent::fault::Clocks now() override { return clocks; }
  void advance_ms(std::int64_t ms) {
    clocks.unix_us += ms * 1000;
    clocks.mono_ns += static_cast<std::uint64_t>(ms) * 1'000'000;
  }
  // Relative to the fake's starting instant, in ms: what windows are written as in `log`.
  [[nodiscard]] static std::int64_t rel_ms(std::uint64_t ns) {
    return (static_cast<std::int64_t>(ns) - 5'000'000'000) / 1'000'000;
  }

  Status write(const agent::bpf::DropKey& k, const agent::bpf::DropValue& v) override {
    if (fail_writes_after == 0) return system_error("bpf(BPF_MAP_UPDATE_ELEM)", E2BIG);
    if (fail_writes_after > 0) --fail_writes_after;
    map[k] = v;
    // A lossy window also shows its loss in ppm (drop_below_of_ppm's inverse, rounded).
    const auto ppm = (v.drop_below * 1'000'000 + (std::uint64_t{1} << 31)) >> 32;
    log.push_back("write " + describe(k) + " " + std::to_string(rel_ms(v.start_ns)) + ".." +
                  std::to_string(rel_ms(v.end_ns)) +
                  (v.drop_below >= agent::bpf::always_drop ? "" : " loss " + std::to_string(ppm)));
    return success();
  }
  Result<std::optional<agent::bpf::DropValue>> read(const agent::bpf::DropKey& k) override {
    auto it = map.find(k);
    if (it == map.end()) return std::optional<agent::bpf::DropValue>();
    return std::optional(it->second);
  }
  Status erase(const agent::bpf::DropKey& k) override {
    map.erase(k);
    log.push_back("erase " + describe(k));
    return success();
  }

  // One packet on the entry, as the classifier sees it; true if dropped.
  bool packet(const agent::bpf::DropKey& k, std::uint32_t len = 100) {
    auto it = map.find(k);
    if (it == map.end()) return false;
    auto& v = it->second;
    const auto now = clocks.mono_ns;
    if (now < v.start_ns) return false;
    if (now >= v.end_ns) {
      if (v.first_pass_after_ns == 0) v.first_pass_after_ns = now;
      return false;
    }
    if (v.drop_below < agent::bpf::always_drop) {
      draws = draws * 6364136223846793005ULL + 1442695040888963407ULL;  // PCG's LCG step
      if ((draws >> 32) >= v.drop_below) {
        ++v.passed_packets;
        return false;
      }
    }
    ++v.dropped_packets;
    v.dropped_bytes += len;
    if (v.first_drop_ns == 0) v.first_drop_ns = now;
    v.last_drop_ns = now;
    return true;
  }

  static std::string describe(const agent::bpf::DropKey& k) {
    static const char* kinds[] = {"?", "in", "in", "out", "out"};
    const bool v4 = k.kind == 1 || k.kind == 3;
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v4 ? AF_INET : AF_INET6, k.addr, buf, sizeof buf);
    return std::string(kinds[k.kind < 5 ? k.kind : 0]) + " " + buf;
  }
};

}  // namespace ticksplit::test
