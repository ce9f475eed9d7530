#include "controller/report/summary.hpp"

#include <cstdio>
#include <sstream>

namespace ticksplit::ctl {

std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster) {
  std::ostringstream os;
  const auto w = cluster.window();
  char line[512];
  std::snprintf(line, sizeof line, "net_ticktime %lld ms, detection window %lld-%lld ms\n",
                static_cast<long long>(cluster.net_ticktime_ms), static_cast<long long>(w.min_ms),
                static_cast<long long>(w.max_ms));
  os << line;
  std::snprintf(line, sizeof line, "%-4s %-16s %-16s %-12s %-10s %-8s %s\n", "#", "shape", "requested", "class",
                "outage", "dropped", "nodedown (observer <- peer, after window start)");
  os << line;
  for (const auto& f : faults) {
    char outage[32];
    if (f.effective_outage_us >= 0)
      std::snprintf(outage, sizeof outage, "%.3f s", static_cast<double>(f.effective_outage_us) / 1e6);
    else
      std::snprintf(outage, sizeof outage, "n/a");
    const std::string req = f.fault.requested + " = " + std::to_string(f.fault.duration_ms) + "ms";
    std::snprintf(line, sizeof line, "%-4d %-16s %-16s %-12s %-10s %-8lld ", f.fault.number, f.fault.shape.c_str(),
                  req.c_str(), window_class_name(f.fault.window_class), outage, static_cast<long long>(f.dropped_packets));
    os << line;
    if (f.nodedowns.empty()) os << "none";
    bool firstd = true;
    for (const auto& d : f.nodedowns) {
      char item[256];
      std::snprintf(item, sizeof item, "%s%s <- %s %.2f s (%s)%s", firstd ? "" : "; ", d.observer.c_str(),
                    d.peer.c_str(), static_cast<double>(d.after_us) / 1e6, d.reason.c_str(),
                    d.cascade ? " [cascade: link not cut]" : "");
      os << item;
      firstd = false;
    }
    os << "\n";
  }
  return os.str();
}

std::string describe_plan(const std::vector<PlannedStep>& plan, const ClusterInfo& cluster, std::uint64_t seed) {
  std::ostringstream os;
  const auto w = cluster.window();
  os << "seed " << seed << "; nodes:";
  for (const auto& n : cluster.nodes) os << " " << n;
  os << "\nnet_ticktime " << cluster.net_ticktime_ms << " ms, intensity " << cluster.tick_intensity
     << ", detection window " << w.min_ms << "-" << w.max_ms << " ms\n";
  for (const auto& step : plan) {
    if (const auto* wait = std::get_if<PlannedWait>(&step)) {
      os << "  wait " << wait->ms << " ms\n";
      continue;
    }
    const auto& f = std::get<PlannedFault>(step);
    os << "  fault " << f.number << " (line " << f.line << "): " << f.shape << ", " << f.duration_ms << " ms ("
       << f.requested << ", " << window_class_name(f.window_class) << ")\n";
    if (!f.groups.empty()) {
      os << "    groups:";
      for (const auto& g : f.groups) {
        os << " [";
        for (std::size_t i = 0; i < g.size(); ++i) os << (i ? " " : "") << g[i];
        os << "]";
      }
      os << "\n";
    }
    for (const auto& [node, drops] : f.grudge) {
      if (drops.empty()) continue;
      os << "    " << cluster.agent_of.at(node) << " drops at " << node << " what arrives from:";
      for (const auto& d : drops) os << " " << d;
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace ticksplit::ctl
