// The real kernel seam: one BPF hash map shared by two cls_bpf programs (ingress, egress),
// attached in direct-action mode to a clsact qdisc on each interface. Construction sets it
// all up or throws ConfigError saying what is missing; destruction removes the filters and
// any clsact qdisc this backend created. The kernel keeps enforcing windows after a SIGKILL:
// the filters hold the programs and the map. One per network namespace: the agent holds an
// InstanceLock (agent/instance_lock.hpp) before it makes one.
#pragma once

#include <string>
#include <vector>

#include "agent/bpf/program.hpp"
#include "agent/fault/backend.hpp"
#include "agent/tc/netlink.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent::fault {

class KernelBackend final : public Backend {
 public:
  // `interfaces` empty: every interface that is up at start-up, except loopback.
  explicit KernelBackend(const std::vector<std::string>& interfaces);
  ~KernelBackend() override;

  [[nodiscard]] std::string name() const override { return "tc_bpf"; }
  Clocks now() override;
  Status write(const bpf::DropKey& key, const bpf::DropValue& value) override;
  Result<std::optional<bpf::DropValue>> read(const bpf::DropKey& key) override;
  Status erase(const bpf::DropKey& key) override;

  [[nodiscard]] int program_fd(bpf::Hook hook) const {
    return hook == bpf::Hook::ingress ? ingress_.get() : egress_.get();
  }

 private:
  struct Attached {
    int ifindex = 0;
    std::string name;
    bool own_clsact = false;  // we created it (or adopted one a killed agent created)
  };
  void attach(Attached& a);
  void detach(const Attached& a);

  tc::Netlink nl_;
  Fd map_;
  Fd ingress_;
  Fd egress_;
  std::vector<Attached> attached_;
};

}  // namespace ticksplit::agent::fault
