// The layout the drop program and the fault engine share: one entry per (peer address,
// direction), holding a drop window on the kernel's monotonic clock, the probability of a drop
// inside it, and the evidence the program gathers. Field offsets are part of the program
// (program.cpp), so they are fixed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ticksplit::agent::bpf {

// Which packets a key matches: the source address of arriving packets (in) or the
// destination of leaving ones (out), per address family.
enum class Kind : std::uint32_t { in_v4 = 1, in_v6 = 2, out_v4 = 3, out_v6 = 4 };

struct DropKey {
  std::uint32_t kind;     // Kind
  std::uint8_t addr[16];  // network order; IPv4 uses the first 4 bytes, the rest zero
};
static_assert(sizeof(DropKey) == 20);

struct DropValue {
  std::uint64_t start_ns;  // drop while start_ns <= now < end_ns (CLOCK_MONOTONIC)
  std::uint64_t end_ns;
  std::uint64_t dropped_packets;  // written by the program
  std::uint64_t dropped_bytes;
  std::uint64_t first_drop_ns;
  std::uint64_t last_drop_ns;
  std::uint64_t first_pass_after_ns;  // first packet that passed once the window was over
  // Inside the window a packet is dropped when bpf_get_prandom_u32() < drop_below; from
  // always_drop up every packet is, without drawing a number. 0 drops nothing.
  std::uint64_t drop_below;
  std::uint64_t passed_packets;  // inside the window, spared by the draw; written by the program
};
static_assert(sizeof(DropValue) == 72);
static_assert(offsetof(DropValue, end_ns) == 8 && offsetof(DropValue, dropped_packets) == 16 &&
              offsetof(DropValue, dropped_bytes) == 24 && offsetof(DropValue, first_drop_ns) == 32 &&
              offsetof(DropValue, last_drop_ns) == 40 && offsetof(DropValue, first_pass_after_ns) == 48 &&
              offsetof(DropValue, drop_below) == 56 && offsetof(DropValue, passed_packets) == 64);

inline constexpr std::uint64_t always_drop = std::uint64_t{1} << 32;

// A loss probability in parts per million (1..1,000,000) as the program's threshold: exact at
// both ends (1,000,000 -> always_drop), and within 2^-32 of ppm / 10^6 between them.
constexpr std::uint64_t drop_below_of_ppm(std::uint32_t ppm) noexcept {
  return ppm >= 1'000'000 ? always_drop : (std::uint64_t{ppm} << 32) / 1'000'000;
}

inline constexpr std::uint32_t drop_map_capacity = 65536;

}  // namespace ticksplit::agent::bpf
