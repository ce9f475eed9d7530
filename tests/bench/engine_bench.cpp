// Benchmark of the partition engine (issue 3), run by engine_bench.sh inside a namespace "a"
// joined to a namespace "b" by a veth pair. Prints figures; exits non-zero if a measurement
// fails, or (with TICKSPLIT_BENCH_STRICT=1, strict.hpp) if a target is missed:
//   - apply+heal of one peer through the engine vs the tc CLI (u32 add/del) and
//     iptables-legacy -A/-D, forked as Jepsen does: at least 100x faster;
//   - a request's cost (expansion + apply) for 1 to 16,384 addresses, which must stay linear;
//   - per-packet cost with 10,000 entries vs an empty map: kernel time per run of the
//     classifier (BPF_PROG_TEST_RUN) and TCP throughput between the namespaces; the cost
//     must not grow with the number of entries (at most 2x, a linear scan would be ~10^4x);
//   - per-packet cost inside an open window, total (no random draw) and lossy (one
//     bpf_get_prandom_u32 per packet): the draw may at most double it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "agent/bpf/syscall.hpp"
#include "agent/fault/engine.hpp"
#include "agent/fault/peers.hpp"
#include "agent/fault/kernel_backend.hpp"
#include "common/net/resolve.hpp"
#include "strict.hpp"

extern char** environ;

using namespace ticksplit;
using namespace ticksplit::agent;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string iface, self, peer, peer_netns;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "engine_bench: %s\n", what.c_str());
  std::exit(1);
}

double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double p90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() * 9 / 10];
}

// fork+exec and wait, as a CLI-driven nemesis does for every rule
void run(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  if (posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), environ) != 0) die("cannot run " + argv[0]);
  posix_spawn_file_actions_destroy(&fa);
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("failed: " + argv[0] + " " + argv[1] + " " + argv[2] + " ...");
}

fault::FaultSpec spec_for(std::vector<net::Cidr> addresses) {
  fault::FaultSpec s;
  s.owner = "bench@198.51.100.1";
  for (const auto& a : addresses) s.peers.push_back(a.to_string());
  s.addresses = std::move(addresses);
  s.duration_ms = 60'000;
  return s;
}

std::string apply(fault::Engine& e, const fault::FaultSpec& s) {
  fault::Output ev;
  auto r = e.apply(s, ev);
  if (!std::holds_alternative<std::string>(r))
    die(std::string("apply refused: ") + proto::refusal_name(std::get<proto::Refusal>(r).kind));
  return std::get<std::string>(r);
}

void clear(fault::Engine& e) {
  fault::Output ev;
  e.heal_all(fault::HealReason::heal_all, ev);
  e.tick(ev);  // recovery timeout 0: released, entries erased
  if (e.entries() != 0) die("entries left after heal");
}

// 2001:db8:ffff::/64 addresses, i-th
net::Cidr v6(std::size_t i) {
  net::Cidr c = *net::parse_cidr("2001:db8:ffff::");
  c.addr[12] = static_cast<std::uint8_t>(i >> 24);
  c.addr[13] = static_cast<std::uint8_t>(i >> 16);
  c.addr[14] = static_cast<std::uint8_t>(i >> 8);
  c.addr[15] = static_cast<std::uint8_t>(i);
  return c;
}

// An Ethernet + IPv4 + TCP header from `src`, as the ingress program sees it.
std::vector<std::uint8_t> frame_from(const std::string& src, const std::string& dst) {
  std::vector<std::uint8_t> f(14 + 20 + 20, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  f[14 + 3] = 40;
  f[14 + 8] = 64;
  f[14 + 9] = 6;
  inet_pton(AF_INET, src.c_str(), &f[14 + 12]);
  inet_pton(AF_INET, dst.c_str(), &f[14 + 16]);
  return f;
}

// Bytes per second of one TCP stream from here to the peer namespace for `seconds`.
double tcp_throughput(const Args& a, double seconds) {
  std::atomic<int> port{0};
  std::atomic<bool> failed{false};
  std::thread server([&] {
    const int ns = ::open(a.peer_netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) return failed.store(true);
    ::close(ns);
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, a.peer.c_str(), &sa.sin_addr);
    socklen_t len = sizeof sa;
    if (::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 1) != 0 ||
        getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
      return failed.store(true);
    port = ntohs(sa.sin_port);
    const int c = ::accept(l, nullptr, nullptr);
    static char buf[1 << 16];
    while (c >= 0 && ::read(c, buf, sizeof buf) > 0) {
    }
    ::close(c);
    ::close(l);
  });
  while (port == 0 && !failed) std::this_thread::yield();
  if (failed) die("cannot listen in the peer namespace");
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port.load()));
  inet_pton(AF_INET, a.peer.c_str(), &sa.sin_addr);
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("cannot connect to the peer namespace");
  static char chunk[1 << 16];
  std::uint64_t sent = 0;
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    const auto n = ::write(s, chunk, sizeof chunk);
    if (n <= 0) die("stream write failed");
    sent += static_cast<std::uint64_t>(n);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(s);
  server.join();
  return static_cast<double>(sent) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) die("usage: engine_bench IFACE SELF_ADDR PEER_ADDR PEER_NETNS_PATH");
  const Args a{argv[1], argv[2], argv[3], argv[4]};
  spdlog::set_level(spdlog::level::warn);
  bool targets_met = true;

  fault::KernelBackend backend({a.iface});
  fault::Policy policy;
  policy.max_fault_ms = 600'000;
  fault::Engine engine(backend, policy);
  engine.set_recovery_timeout_ms(0);
  const auto peer = *net::parse_cidr(a.peer);

  // 1. one peer, apply + heal, engine vs CLIs
  std::vector<double> eng, tc, ipt;
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = Clock::now();
    apply(engine, spec_for({peer}));
    clear(engine);
    eng.push_back(us_since(t0));
  }
  const std::string prefix = a.peer + "/32";
  for (int i = 0; i < 40; ++i) {
    auto t0 = Clock::now();
    run({"tc", "filter", "add", "dev", a.iface, "ingress", "prio", "10", "protocol", "ip", "u32", "match", "ip", "src",
         prefix, "classid", "1:1"});
    run({"tc", "filter", "del", "dev", a.iface, "ingress", "prio", "10"});
    tc.push_back(us_since(t0));
    t0 = Clock::now();
    run({"iptables-legacy", "-A", "INPUT", "-s", a.peer, "-j", "DROP"});
    run({"iptables-legacy", "-D", "INPUT", "-s", a.peer, "-j", "DROP"});
    ipt.push_back(us_since(t0));
  }
  const double ratio_tc = median(tc) / median(eng), ratio_ipt = median(ipt) / median(eng);
  std::printf("partition engine: apply + heal of one peer (median / p90)\n");
  std::printf("  engine (BPF map, through Engine)   %9.1f us  %9.1f us\n", median(eng), p90(eng));
  std::printf("  tc filter add/del u32 (CLI)        %9.1f us  %9.1f us   engine %.0fx faster\n", median(tc), p90(tc),
              ratio_tc);
  std::printf("  iptables-legacy -A/-D (CLI)        %9.1f us  %9.1f us   engine %.0fx faster\n", median(ipt), p90(ipt),
              ratio_ipt);
  if (ratio_tc < 100 || ratio_ipt < 100) {
    std::printf("  TARGET MISSED: the engine must be at least 100x faster than each CLI\n");
    targets_met = false;
  }

  // 2. a request's cost by number of addresses, 1 to the per-request limit: the peers as the
  //    request gives them (CIDR blocks of 2001:db8:ffff::/64), expanded and de-duplicated by
  //    resolve_peers, then applied by the engine. Linear: the cost per address at the limit
  //    stays within 3x of that at 256 addresses, measured in this same run.
  std::printf("partition request: N addresses as CIDR peers, expanded and applied (median of 5)\n");
  std::printf("  %6s  %12s  %12s  %14s\n", "addrs", "expand us", "apply us", "per address us");
  double per_256 = 0, per_limit = 0;
  for (std::size_t n : {std::size_t{1}, std::size_t{16}, std::size_t{256}, std::size_t{4096}, fault::max_request_addresses}) {
    std::vector<proto::Peer> peers;
    const std::size_t block = std::min<std::size_t>(n, fault::max_block_addresses);
    const int block_prefix = 128 - std::countr_zero(block);
    for (std::size_t i = 0; i < n / block; ++i) {
      auto first = v6(i * block);
      peers.push_back({first.to_string().substr(0, first.to_string().find('/')) + "/" + std::to_string(block_prefix), false});
    }
    std::vector<double> te, ta;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = Clock::now();
      auto addresses = fault::resolve_peers(peers, net::resolve_host);
      te.push_back(us_since(t0));
      if (!std::holds_alternative<std::vector<net::Cidr>>(addresses)) die("resolve_peers refused the blocks");
      auto& list = std::get<std::vector<net::Cidr>>(addresses);
      if (list.size() != n) die("expanded to " + std::to_string(list.size()) + " addresses, not " + std::to_string(n));
      const auto s = spec_for(std::move(list));
      const auto t1 = Clock::now();
      apply(engine, s);
      ta.push_back(us_since(t1));
      clear(engine);
    }
    const double per = (median(te) + median(ta)) / static_cast<double>(n);
    if (n == 256) per_256 = per;
    if (n == fault::max_request_addresses) per_limit = per;
    std::printf("  %6zu  %12.1f  %12.1f  %14.2f\n", n, median(te), median(ta), per);
  }
  std::printf("  per address at the limit / at 256: %.2fx (target <= 3x: linear)\n", per_limit / per_256);
  if (per_limit > 3 * per_256) {
    std::printf("  TARGET MISSED: the request cost grows faster than linearly\n");
    targets_met = false;
  }

  // 3. per-packet cost: the stream's own peer in the map (its window over, the common case
  //    between faults) alone, then with 9,999 other entries; and an empty map for reference
  const auto frame = frame_from(a.peer, a.self);
  auto per_packet = [&] {
    std::vector<double> v;
    for (int r = 0; r < 5; ++r) {
      auto ns = bpf::test_run_ns(backend.program_fd(bpf::Hook::ingress), frame, 1'000'000);
      if (!ns) die(ns.error().describe());
      v.push_back(*ns);
    }
    return median(v);
  };
  auto throughput = [&] { return std::max(tcp_throughput(a, 1.0), tcp_throughput(a, 1.0)); };
  const double empty_ns = per_packet();
  const double empty_bps = throughput();
  const auto key = fault::drop_key(peer, true);
  if (!backend.write(key, bpf::DropValue{})) die("cannot write the peer's entry");
  const double one_ns = per_packet();
  const double one_bps = throughput();
  // inside an open window: every packet dropped (the draw skipped), then half of them
  const auto open_window = [&](std::uint32_t ppm) {
    bpf::DropValue v{};
    v.end_ns = backend.now().mono_ns + 3'600'000'000'000ULL;
    v.drop_below = bpf::drop_below_of_ppm(ppm);
    if (!backend.write(key, v)) die("cannot write the peer's entry");
    return per_packet();
  };
  const double total_ns = open_window(1'000'000);
  const double lossy_ns = open_window(500'000);
  if (!backend.write(key, bpf::DropValue{})) die("cannot write the peer's entry");
  std::vector<net::Cidr> many;
  for (std::size_t i = 0; i < 9999; ++i) many.push_back(v6(i + 1));
  apply(engine, spec_for(many));
  const double full_ns = per_packet();
  const double full_bps = throughput();
  (void)backend.erase(key);
  clear(engine);
  std::printf(
      "partition engine: per-packet cost by entries in the map (classifier run in the kernel via\n"
      "BPF_PROG_TEST_RUN; one TCP stream a->b through the filter)\n");
  std::printf("  empty map                      %6.1f ns   %6.2f Gbit/s\n", empty_ns, empty_bps * 8 / 1e9);
  std::printf("  1 entry (the stream's peer)    %6.1f ns   %6.2f Gbit/s\n", one_ns, one_bps * 8 / 1e9);
  std::printf("  10,000 entries                 %6.1f ns   %6.2f Gbit/s   (x%.2f the cost of 1 entry)\n", full_ns,
              full_bps * 8 / 1e9, full_ns / one_ns);
  if (full_ns > 2 * one_ns) {
    std::printf("  TARGET MISSED: per-packet cost grows with the number of entries\n");
    targets_met = false;
  }
  std::printf("partition engine: per-packet cost inside an open window (the stream's peer, 1 entry)\n");
  std::printf("  loss 100%% (drop, no draw)      %6.1f ns\n", total_ns);
  std::printf("  loss 50%% (one random draw)     %6.1f ns   (x%.2f the cost of a total drop)\n", lossy_ns,
              lossy_ns / total_ns);
  if (lossy_ns > 2 * total_ns) {
    std::printf("  TARGET MISSED: the random draw more than doubles the per-packet cost\n");
    targets_met = false;
  }
  return ticksplit::bench::exit_code(true, targets_met);
}
