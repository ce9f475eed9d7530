// The bpf() system call, as much of it as the fault engine needs: a hash map and a
// classifier program. Every fd is owned (Fd); failures are Errors carrying errno.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent::bpf {

Result<Fd> create_hash_map(std::uint32_t key_size, std::uint32_t value_size, std::uint32_t max_entries,
                           const char* name);
Status map_update(int map_fd, const void* key, const void* value);
// false if the key is absent
Result<bool> map_lookup(int map_fd, const void* key, void* value);
// Deleting an absent key is success: it is already gone.
Status map_delete(int map_fd, const void* key);

// Loads a BPF_PROG_TYPE_SCHED_CLS program. On a verifier rejection the Error holds the
// verifier's log.
Result<Fd> load_classifier(std::span<const bpf_insn> insns, const char* name);

// Runs a loaded program once on `packet` (BPF_PROG_TEST_RUN) and returns its verdict; for
// testing the program's logic without a network.
Result<std::int32_t> test_run(int prog_fd, std::span<const std::uint8_t> packet);
// Runs it `repeat` times in the kernel and returns the kernel's average time per run (ns):
// the per-packet cost of the program, without a network.
Result<std::uint32_t> test_run_ns(int prog_fd, std::span<const std::uint8_t> packet, std::uint32_t repeat);

}  // namespace ticksplit::agent::bpf
