#include "controller/report/stress_evidence.hpp"

#include <cstdio>
#include <optional>

namespace ticksplit::ctl {

using nlohmann::json;

namespace {

// A number within [lo, hi], or nothing (a history is input like any other).
std::optional<double> number(const json& j, const char* key, double lo, double hi) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  const double v = j[key].get<double>();
  if (!(v >= lo && v <= hi)) return std::nullopt;
  return v;
}

std::string percent(const std::optional<double>& v) {
  if (!v) return "n/a";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", *v * 100);
  return buf;
}

std::string ms(const std::optional<double>& v) {
  if (!v) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", *v);
  return buf;
}

}  // namespace

void read_stress_evidence(const json& e, FaultOutcome& out) {
  if (!e.is_object() || !e.contains("utilisation_during")) return;
  constexpr double hour_ms = 3.6e6;
  out.utilisation_before = number(e, "utilisation_before", 0, 1);
  out.utilisation_during = number(e, "utilisation_during", 0, 1);
  out.utilisation_after = number(e, "utilisation_after", 0, 1);
  if (e.contains("rtt_during_ms")) {
    out.rtt_during_median_ms = number(e["rtt_during_ms"], "median_ms", 0, hour_ms);
    out.rtt_during_max_ms = number(e["rtt_during_ms"], "max_ms", 0, hour_ms);
  }
}

std::string stress_line(const FaultOutcome& f) {
  if (!f.utilisation_during && !f.utilisation_before && !f.utilisation_after) return {};
  return "  stress: scheduler utilisation " + percent(f.utilisation_before) + " before, " +
         percent(f.utilisation_during) + " during, " + percent(f.utilisation_after) +
         " after; probe round trips during the window: median " + ms(f.rtt_during_median_ms) + ", max " +
         ms(f.rtt_during_max_ms) + "\n";
}

}  // namespace ticksplit::ctl
