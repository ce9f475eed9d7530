// clsact and cls_bpf through netlink, in a private network namespace of this process (it
// vanishes with the process, so nothing can be left behind), checked with the tc CLI.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <net/if.h>
#include <sched.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/bpf/drop_map.hpp"
#include "agent/bpf/program.hpp"
#include "agent/bpf/syscall.hpp"
#include "agent/tc/clsact.hpp"

using namespace ticksplit::agent;

namespace {

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  pclose(p);
  return out;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

struct Program {
  ticksplit::Fd map, in, out;
  Program() {
    map = std::move(*bpf::create_hash_map(sizeof(bpf::DropKey), sizeof(bpf::DropValue), 64, "ts_tc_test"));
    in = std::move(*bpf::load_classifier(bpf::drop_program(bpf::Hook::ingress, map.get()), "ts_in"));
    out = std::move(*bpf::load_classifier(bpf::drop_program(bpf::Hook::egress, map.get()), "ts_out"));
  }
};

}  // namespace

TEST_CASE("clsact is created once and reported as pre-existing the second time") {
  tc::Netlink nl;
  const int ifindex = static_cast<int>(if_nametoindex("tsa"));
  REQUIRE(ifindex > 0);
  auto first = tc::add_clsact(nl, ifindex);
  REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().describe()));
  CHECK(*first);
  auto second = tc::add_clsact(nl, ifindex);
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  CHECK(count(shell("tc qdisc show dev tsa"), "clsact") == 1);
  REQUIRE(tc::remove_clsact(nl, ifindex).ok());
  CHECK(count(shell("tc qdisc show dev tsa"), "clsact") == 0);
  CHECK(tc::remove_clsact(nl, ifindex).ok());  // already gone: success
}

TEST_CASE("the drop filter attaches in direct-action mode on both hooks, once, and detaches") {
  tc::Netlink nl;
  Program p;
  const int ifindex = static_cast<int>(if_nametoindex("tsa"));
  REQUIRE(tc::add_clsact(nl, ifindex).ok());
  auto in = tc::attach_filter(nl, ifindex, bpf::Hook::ingress, p.in.get());
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.error().describe()));
  REQUIRE(tc::attach_filter(nl, ifindex, bpf::Hook::egress, p.out.get()).ok());
  // attaching again replaces: still one filter per hook
  REQUIRE(tc::attach_filter(nl, ifindex, bpf::Hook::ingress, p.in.get()).ok());

  const auto ingress = shell("tc filter show dev tsa ingress");
  const auto egress = shell("tc filter show dev tsa egress");
  CHECK(count(ingress, "ticksplit_drop") == 1);
  CHECK(count(egress, "ticksplit_drop") == 1);
  CHECK(ingress.find("direct-action") != std::string::npos);
  CHECK(ingress.find("pref 49374") != std::string::npos);  // filter_priority 0xc0de
  auto listed = tc::count_filters(nl, ifindex, bpf::Hook::ingress);
  REQUIRE(listed.ok());
  CHECK(*listed == 1);

  // someone else's filter on the same hook is counted, and survives ours going
  REQUIRE(shell("tc filter add dev tsa ingress prio 7 protocol ip u32 match ip src 198.51.100.99/32 classid 1:1 "
                "&& echo added")
              .find("added") != std::string::npos);
  CHECK(*tc::count_filters(nl, ifindex, bpf::Hook::ingress) == 2);

  auto removed = tc::detach_filter(nl, ifindex, bpf::Hook::ingress);
  REQUIRE(removed.ok());
  CHECK(*removed);
  REQUIRE(tc::detach_filter(nl, ifindex, bpf::Hook::egress).ok());
  CHECK(count(shell("tc filter show dev tsa ingress"), "ticksplit_drop") == 0);
  CHECK(count(shell("tc filter show dev tsa egress"), "ticksplit_drop") == 0);
  CHECK(*tc::count_filters(nl, ifindex, bpf::Hook::ingress) == 1);
  CHECK(*tc::count_filters(nl, ifindex, bpf::Hook::egress) == 0);
  auto again = tc::detach_filter(nl, ifindex, bpf::Hook::ingress);  // already gone: success, says so
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  REQUIRE(tc::remove_clsact(nl, ifindex).ok());
}

TEST_CASE("a missing interface is an error that names it") {
  tc::Netlink nl;
  Program p;
  auto r = tc::attach_filter(nl, 999999, bpf::Hook::ingress, p.in.get());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("interface 999999") != std::string::npos);
  auto q = tc::add_clsact(nl, 999999);
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().message.find("interface 999999") != std::string::npos);
}

int main(int argc, char** argv) {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (needs root)");
    return 1;
  }
  if (std::system("ip link add tsa type veth peer name tsb && ip link set tsa up && ip link set tsb up") != 0) {
    std::fprintf(stderr, "cannot create the test veth pair\n");
    return 1;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
