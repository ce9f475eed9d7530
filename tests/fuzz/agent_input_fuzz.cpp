// libFuzzer target: everything a peer's bytes reach in the agent before a fault is made.
// The first byte picks the path and how the rest is cut into reads:
//   even: bytes after the handshake: packets -> control tuple -> message -> gen_call -> request,
//         or -> a watcher's fault report and its kill_process props (agent/watcher_report.hpp)
//   odd:  the accepting handshake, fed in reads of (first byte / 2 + 1) bytes; what follows a
//         completed handshake goes down the packet path.
// Run by scripts/fuzz (a bounded run over tests/fuzz/corpus, in scripts/test).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cnode/handshake.hpp"
#include "common/cnode/packet.hpp"
#include "common/ei/decode.hpp"
#include "agent/watcher_report.hpp"
#include "common/proto/request.hpp"

namespace {

using namespace ticksplit;

void packets(std::string buf) {
  for (std::size_t at = 0;;) {
    auto p = cnode::next_packet(std::string_view(buf).substr(at));
    if (!p || !*p) return;
    at += (*p)->size;
    if ((*p)->tick) continue;
    auto m = cnode::parse_packet((*p)->body);
    if (!m || m->payload.empty()) continue;
    auto term = ei::decode(m->payload.data(), m->payload.size());
    if (term && agent::watcher::is_fault_report(*term)) {
      if (auto r = agent::watcher::fault_report_from(*term)) {
        (void)agent::watcher::kill_seen_from(*r);
        (void)agent::watcher::rejected_error(*r);
      }
      continue;
    }
    if (!term || !proto::is_gen_call(*term)) continue;
    auto call = proto::parse_gen_call(*term);
    if (call) (void)proto::parse_request(call->request);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    packets(std::string(in));
    return 0;
  }
  cnode::AcceptHandshake hs({"ticksplit@198.51.100.11", "cookie", 1}, 1234567);
  const std::size_t step = data[0] / 2 + 1;
  std::string out;
  for (std::size_t at = 0; at < in.size(); at += step) {
    const auto state = hs.feed(in.substr(at, step), out);
    if (state == cnode::AcceptHandshake::State::failed) return 0;
    if (state == cnode::AcceptHandshake::State::done) {
      packets(hs.leftover() + std::string(in.substr(std::min(in.size(), at + step))));
      return 0;
    }
  }
  return 0;
}
