#include "agent/bpf/syscall.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ticksplit::agent::bpf {
namespace {

long sys_bpf(int cmd, bpf_attr& attr) { return ::syscall(__NR_bpf, cmd, &attr, sizeof attr); }

std::uint64_t ptr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

void set_name(char (&dst)[BPF_OBJ_NAME_LEN], const char* name) { std::strncpy(dst, name, sizeof dst - 1); }

}  // namespace

Result<Fd> create_hash_map(std::uint32_t key_size, std::uint32_t value_size, std::uint32_t max_entries,
                           const char* name) {
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_HASH;
  attr.key_size = key_size;
  attr.value_size = value_size;
  attr.max_entries = max_entries;
  set_name(attr.map_name, name);
  const long fd = sys_bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) return system_error(std::string("bpf(BPF_MAP_CREATE) for ") + name, errno);
  return Fd(static_cast<int>(fd));
}

Status map_update(int map_fd, const void* key, const void* value) {
  bpf_attr attr{};
  attr.map_fd = static_cast<std::uint32_t>(map_fd);
  attr.key = ptr(key);
  attr.value = ptr(value);
  attr.flags = BPF_ANY;
  if (sys_bpf(BPF_MAP_UPDATE_ELEM, attr) < 0) return system_error("bpf(BPF_MAP_UPDATE_ELEM)", errno);
  return success();
}

Result<bool> map_lookup(int map_fd, const void* key, void* value) {
  bpf_attr attr{};
  attr.map_fd = static_cast<std::uint32_t>(map_fd);
  attr.key = ptr(key);
  attr.value = ptr(value);
  if (sys_bpf(BPF_MAP_LOOKUP_ELEM, attr) == 0) return true;
  if (errno == ENOENT) return false;
  return system_error("bpf(BPF_MAP_LOOKUP_ELEM)", errno);
}

Status map_delete(int map_fd, const void* key) {
  bpf_attr attr{};
  attr.map_fd = static_cast<std::uint32_t>(map_fd);
  attr.key = ptr(key);
  if (sys_bpf(BPF_MAP_DELETE_ELEM, attr) == 0 || errno == ENOENT) return success();
  return system_error("bpf(BPF_MAP_DELETE_ELEM)", errno);
}

Result<Fd> load_classifier(std::span<const bpf_insn> insns, const char* name) {
  std::vector<char> log(std::size_t{64} * 1024);
  static const char license[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  attr.insns = ptr(insns.data());
  attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
  attr.license = ptr(license);
  attr.log_buf = ptr(log.data());
  attr.log_size = static_cast<std::uint32_t>(log.size());
  attr.log_level = 1;
  set_name(attr.prog_name, name);
  const long fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) {
    const int err = errno;
    return Error{Domain::system, err,
                 std::string("bpf(BPF_PROG_LOAD) of ") + name + " refused: " + std::strerror(err) +
                     "; verifier log:\n" + log.data()};
  }
  return Fd(static_cast<int>(fd));
}

namespace {

Result<bpf_attr> run_test(int prog_fd, std::span<const std::uint8_t> packet, std::uint32_t repeat) {
  std::vector<std::uint8_t> out(packet.size() + 256);
  bpf_attr attr{};
  attr.test.prog_fd = static_cast<std::uint32_t>(prog_fd);
  attr.test.data_in = ptr(packet.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(packet.size());
  attr.test.data_out = ptr(out.data());
  attr.test.data_size_out = static_cast<std::uint32_t>(out.size());
  attr.test.repeat = repeat;
  if (sys_bpf(BPF_PROG_TEST_RUN, attr) < 0) return system_error("bpf(BPF_PROG_TEST_RUN)", errno);
  return attr;
}

}  // namespace

Result<std::int32_t> test_run(int prog_fd, std::span<const std::uint8_t> packet) {
  auto r = run_test(prog_fd, packet, 1);
  if (!r) return r.error();
  return static_cast<std::int32_t>(r->test.retval);
}

Result<std::uint32_t> test_run_ns(int prog_fd, std::span<const std::uint8_t> packet, std::uint32_t repeat) {
  auto r = run_test(prog_fd, packet, repeat);
  if (!r) return r.error();
  return r->test.duration;
}

}  // namespace ticksplit::agent::bpf
