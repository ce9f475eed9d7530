// The linearizability search's memo: the configurations (set of linearized operations, model
// state) already explored, as in Lowe's improvement of Wing & Gong's algorithm (Lowe, "Testing
// for Linearizability", Concurrency and Computation 29(4), 2017) and in Porcupine.
//
// A set of operations is stored as a 128-bit Zobrist fingerprint (the XOR of a random 128-bit
// key per operation) instead of a bitset: it updates in O(1) when an operation is lifted or
// unlifted, and a memo entry is 24 bytes whatever the history's length (a bitset of 100k
// operations would be 12.5 KB per entry). Two different sets collide only if the XOR of the keys
// of their symmetric difference is zero, probability 2^-128 per pair for random keys; over N
// entries that is below N^2 / 2^129, about 10^-23 for N = 10^8. A collision could only make the
// search skip a configuration, i.e. report nonlinearizable; it can never make an invalid history
// look valid.
//
// Open addressing with linear probing, grown by doubling; it never grows past the byte limit the
// caller gives, so the budget is kept without the allocator failing first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace ticksplit::check {

struct Fingerprint {
  std::uint64_t a = 0, b = 0;
  Fingerprint& operator^=(const Fingerprint& o) noexcept {
    a ^= o.a;
    b ^= o.b;
    return *this;
  }
};

class ConfigSet {
 public:
  enum class Insert { added, present, full };

  // Adds (set, state) unless present. `full` when adding would need more than `max_bytes`.
  Insert insert(const Fingerprint& set, std::uint32_t state, std::size_t max_bytes) {
    if (slots_.empty() && !grow(max_bytes)) return Insert::full;
    Slot* s = find(set, state);
    if (s->state != kEmpty) return Insert::present;
    if ((size_ + 1) * 4 > slots_.size() * 3) {  // keep the load under 3/4
      if (!grow(max_bytes)) return Insert::full;
      s = find(set, state);
    }
    *s = {set.a, set.b, state};
    ++size_;
    return Insert::added;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return slots_.size() * sizeof(Slot); }

 private:
  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  struct Slot {
    std::uint64_t a = 0, b = 0;
    std::uint32_t state = kEmpty;
  };

  // The slot holding (set, state), or the empty one where it would go.
  Slot* find(const Fingerprint& set, std::uint32_t state) noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = index(set, state) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.state == kEmpty || (s.a == set.a && s.b == set.b && s.state == state)) return &s;
    }
  }

  static std::size_t index(const Fingerprint& set, std::uint32_t state) noexcept {
    return static_cast<std::size_t>(set.a ^ (std::uint64_t{state} * 0x9E3779B97F4A7C15ULL));
  }

  bool grow(std::size_t max_bytes) {
    const std::size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
    if ((n + slots_.size()) * sizeof(Slot) > max_bytes) return false;  // old and new, while moving
    std::vector<Slot> old(n);
    old.swap(slots_);
    const std::size_t mask = n - 1;
    for (const Slot& s : old) {
      if (s.state == kEmpty) continue;
      std::size_t i = index({s.a, s.b}, s.state) & mask;
      while (slots_[i].state != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
    return true;
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace ticksplit::check
