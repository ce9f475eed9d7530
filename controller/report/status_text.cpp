#include "controller/report/status_text.hpp"

#include <sstream>

namespace ticksplit::ctl {

std::string describe_reply(const AgentReply& r) {
  std::ostringstream out;
  if (r.healed) out << r.agent << ": healed " << *r.healed << "\n";
  if (!r.status) return out.str();
  const auto& s = *r.status;
  out << r.agent << ": backend " << s.backend << ", version " << s.version;
  if (auto w = s.window())
    out << ", net_ticktime " << *s.net_ticktime_ms << " ms (window " << w->min_ms << "-" << w->max_ms << " ms)";
  out << ", " << s.faults.size() << " fault(s)\n";
  for (const auto& n : s.nodes) out << "  " << n.node << (n.connected ? " joined" : " NOT joined") << "\n";
  for (const auto& f : s.faults) out << "  fault " << ei::to_string(f) << "\n";
  return out.str();
}

}  // namespace ticksplit::ctl
