// Readable constructors for eBPF instructions, so the drop program can be written out by
// hand (no clang at build or run time). Names follow the kernel's BPF_* macros.
#pragma once

#include <linux/bpf.h>

#include <array>
#include <cstdint>

namespace ticksplit::agent::bpf::insn {

enum Reg : std::uint8_t { r0 = 0, r1, r2, r3, r4, r5, r6, r7, r8, r9, fp = 10 };

constexpr bpf_insn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

constexpr bpf_insn mov_imm(Reg dst, std::int32_t imm) { return make(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn mov(Reg dst, Reg src) { return make(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn add_imm(Reg dst, std::int32_t imm) { return make(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn rsh_imm(Reg dst, std::int32_t imm) { return make(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm); }
// dst = *(size *)(src + off)
constexpr bpf_insn load(std::uint8_t size, Reg dst, Reg src, std::int16_t off) {
  return make(BPF_LDX | size | BPF_MEM, dst, src, off, 0);
}
// *(size *)(dst + off) = src
constexpr bpf_insn store(std::uint8_t size, Reg dst, std::int16_t off, Reg src) {
  return make(BPF_STX | size | BPF_MEM, dst, src, off, 0);
}
// *(size *)(dst + off) = imm
constexpr bpf_insn store_imm(std::uint8_t size, Reg dst, std::int16_t off, std::int32_t imm) {
  return make(BPF_ST | size | BPF_MEM, dst, 0, off, imm);
}
// *(u64 *)(dst + off) += src, atomically
constexpr bpf_insn atomic_add(Reg dst, std::int16_t off, Reg src) {
  return make(BPF_STX | BPF_DW | BPF_ATOMIC, dst, src, off, BPF_ADD);
}
// if (dst OP imm) goto +off
constexpr bpf_insn jump_imm(std::uint8_t op, Reg dst, std::int32_t imm, std::int16_t off) {
  return make(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
// if (dst OP src) goto +off
constexpr bpf_insn jump(std::uint8_t op, Reg dst, Reg src, std::int16_t off) {
  return make(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
constexpr bpf_insn ja(std::int16_t off) { return make(BPF_JMP | BPF_JA, 0, 0, off, 0); }
constexpr bpf_insn call(std::int32_t helper) { return make(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
constexpr bpf_insn exit() { return make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
// dst = the map with this fd (a two-instruction load the kernel rewrites to the map pointer)
constexpr std::array<bpf_insn, 2> load_map_fd(Reg dst, int fd) {
  return {make(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd), make(0, 0, 0, 0, 0)};
}

}  // namespace ticksplit::agent::bpf::insn
