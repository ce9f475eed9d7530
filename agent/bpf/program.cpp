#include "agent/bpf/program.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <cstddef>
#include <map>
#include <stdexcept>

#include "agent/bpf/drop_map.hpp"
#include "agent/bpf/insn.hpp"

namespace ticksplit::agent::bpf {
namespace {

using namespace insn;

// A few instructions' worth of assembler: emits instructions and resolves jumps to labels.
class Assembler {
 public:
  enum Label { v4, v6, lookup, drop, seen, after, pass };

  void emit(bpf_insn i) { code_.push_back(i); }
  void emit(const std::array<bpf_insn, 2>& pair) { code_.insert(code_.end(), pair.begin(), pair.end()); }
  void jump_imm(std::uint8_t op, Reg dst, std::int32_t imm, Label to) {
    fixup(to), emit(insn::jump_imm(op, dst, imm, 0));
  }
  void jump(std::uint8_t op, Reg dst, Reg src, Label to) { fixup(to), emit(insn::jump(op, dst, src, 0)); }
  void go(Label to) { fixup(to), emit(ja(0)); }
  void label(Label l) { labels_[l] = code_.size(); }

  std::vector<bpf_insn> finish() {
    for (const auto& [at, to] : fixups_) {
      const auto target = labels_.at(to);
      code_[at].off = static_cast<std::int16_t>(static_cast<long>(target) - static_cast<long>(at) - 1);
    }
    return std::move(code_);
  }

 private:
  void fixup(Label to) { fixups_.emplace_back(code_.size(), to); }
  std::vector<bpf_insn> code_;
  std::map<Label, std::size_t> labels_;
  std::vector<std::pair<std::size_t, Label>> fixups_;
};

// Stack layout: the DropKey lives at fp-24 (kind) and fp-20 (address, 16 bytes).
constexpr std::int16_t kKey = -24;
constexpr std::int16_t kAddr = -20;

void load_address(Assembler& a, Kind kind, std::int32_t offset, std::int32_t len) {
  a.emit(store_imm(BPF_W, fp, kKey, static_cast<std::int32_t>(kind)));
  a.emit(mov(r1, r6));
  a.emit(mov_imm(r2, offset));
  a.emit(mov(r3, fp));
  a.emit(add_imm(r3, kAddr));
  a.emit(mov_imm(r4, len));
  a.emit(call(BPF_FUNC_skb_load_bytes));
  a.jump_imm(BPF_JNE, r0, 0, Assembler::pass);
}

}  // namespace

std::vector<bpf_insn> drop_program(Hook hook, int map_fd) {
  const bool in = hook == Hook::ingress;
  Assembler a;
  a.emit(mov(r6, r1));  // r6 = skb, kept across helper calls
  a.emit(store_imm(BPF_DW, fp, -24, 0));
  a.emit(store_imm(BPF_DW, fp, -16, 0));
  a.emit(store_imm(BPF_DW, fp, -8, 0));
  // __sk_buff.protocol holds the ethertype in network order
  a.emit(load(BPF_W, r7, r6, offsetof(__sk_buff, protocol)));
  a.jump_imm(BPF_JEQ, r7, htons(ETH_P_IP), Assembler::v4);
  a.jump_imm(BPF_JEQ, r7, htons(ETH_P_IPV6), Assembler::v6);
  a.go(Assembler::pass);

  // tc programs see the frame from its Ethernet header: IPv4 saddr at 14+12, daddr at
  // 14+16; IPv6 saddr at 14+8, daddr at 14+24.
  a.label(Assembler::v4);
  load_address(a, in ? Kind::in_v4 : Kind::out_v4, ETH_HLEN + (in ? 12 : 16), 4);
  a.go(Assembler::lookup);
  a.label(Assembler::v6);
  load_address(a, in ? Kind::in_v6 : Kind::out_v6, ETH_HLEN + (in ? 8 : 24), 16);

  a.label(Assembler::lookup);
  a.emit(load_map_fd(r1, map_fd));
  a.emit(mov(r2, fp));
  a.emit(add_imm(r2, kKey));
  a.emit(call(BPF_FUNC_map_lookup_elem));
  a.jump_imm(BPF_JEQ, r0, 0, Assembler::pass);
  a.emit(mov(r9, r0));  // r9 = the entry
  a.emit(call(BPF_FUNC_ktime_get_ns));
  a.emit(mov(r8, r0));  // r8 = now
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, start_ns)));
  a.jump(BPF_JLT, r8, r1, Assembler::pass);  // not started yet
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, end_ns)));
  a.jump(BPF_JGE, r8, r1, Assembler::after);  // over

  // inside the window: a lossy entry draws a number first (r1-r5 do not survive the call)
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, drop_below)));
  a.emit(mov(r2, r1));
  a.emit(rsh_imm(r2, 32));
  a.jump_imm(BPF_JNE, r2, 0, Assembler::drop);  // always_drop or more: no draw
  a.emit(call(BPF_FUNC_get_prandom_u32));
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, drop_below)));
  a.jump(BPF_JLT, r0, r1, Assembler::drop);
  // spared: counted, and passed on
  a.emit(mov_imm(r1, 1));
  a.emit(atomic_add(r9, offsetof(DropValue, passed_packets), r1));
  a.go(Assembler::pass);

  // count, then drop
  a.label(Assembler::drop);
  a.emit(mov_imm(r1, 1));
  a.emit(atomic_add(r9, offsetof(DropValue, dropped_packets), r1));
  a.emit(load(BPF_W, r1, r6, offsetof(__sk_buff, len)));
  a.emit(atomic_add(r9, offsetof(DropValue, dropped_bytes), r1));
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, first_drop_ns)));
  a.jump_imm(BPF_JNE, r1, 0, Assembler::seen);
  a.emit(store(BPF_DW, r9, offsetof(DropValue, first_drop_ns), r8));
  a.label(Assembler::seen);
  a.emit(store(BPF_DW, r9, offsetof(DropValue, last_drop_ns), r8));
  a.emit(mov_imm(r0, TC_ACT_SHOT));
  a.emit(exit());

  // after the window: remember when traffic first came back
  a.label(Assembler::after);
  a.emit(load(BPF_DW, r1, r9, offsetof(DropValue, first_pass_after_ns)));
  a.jump_imm(BPF_JNE, r1, 0, Assembler::pass);
  a.emit(store(BPF_DW, r9, offsetof(DropValue, first_pass_after_ns), r8));

  a.label(Assembler::pass);
  a.emit(mov_imm(r0, TC_ACT_UNSPEC));
  a.emit(exit());
  return a.finish();
}

}  // namespace ticksplit::agent::bpf
