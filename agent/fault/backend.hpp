// The kernel seam of the fault engine: a map from (peer address, direction) to a drop window
// with evidence counters, and the two clocks the engine converts between. The real one is
// KernelBackend (BPF map + cls_bpf on clsact); unit tests use a recording fake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/bpf/drop_map.hpp"
#include "common/error.hpp"

namespace ticksplit::agent::fault {

// The same instant on both clocks: unix time for the protocol, monotonic (the clock of
// bpf_ktime_get_ns) for the windows in the map.
struct Clocks {
  std::int64_t unix_us = 0;
  std::uint64_t mono_ns = 0;
};

// Between the clocks, through one reading of both (engine.cpp).
std::uint64_t unix_to_mono_ns(std::int64_t unix_us, const Clocks& c) noexcept;
std::int64_t mono_to_unix_us(std::uint64_t mono_ns, const Clocks& c) noexcept;

class Backend {
 public:
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  virtual ~Backend() = default;

  [[nodiscard]] virtual std::string name() const = 0;
  virtual Clocks now() = 0;
  // Creates or replaces the entry (window and counters as given).
  virtual Status write(const bpf::DropKey& key, const bpf::DropValue& value) = 0;
  // The entry, or nullopt if there is none.
  virtual Result<std::optional<bpf::DropValue>> read(const bpf::DropKey& key) = 0;
  // Erasing an absent entry is success.
  virtual Status erase(const bpf::DropKey& key) = 0;
};

}  // namespace ticksplit::agent::fault
