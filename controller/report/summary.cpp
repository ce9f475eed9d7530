#include "controller/report/summary.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "common/loss.hpp"
#include "controller/report/stress_evidence.hpp"

namespace ticksplit::ctl {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string seconds(std::int64_t us) { return fixed(static_cast<double>(us) / 1e6, 3) + " s"; }

// Columns as wide as their widest cell, two spaces apart.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c)
      line += r[c] + (c + 1 < r.size() ? std::string(width[c] - r[c].size() + 2, ' ') : "");
    out += line + "\n";
  }
  return out;
}

Link link_of(const std::string& a, const std::string& b) { return a < b ? Link{a, b} : Link{b, a}; }

}  // namespace

std::string kill_text(const FaultOutcome& f) {
  const auto& t = f.fault.kill_target;
  const std::string what = t.kind == proto::ProcessTarget::Kind::name ? t.name : "a child of " + t.name;
  if (!f.killed) return "kill_process of " + what + " on " + *f.fault.killed_on + ": no report";
  const auto& k = *f.killed;
  if (!k.error.empty()) return "kill_process of " + what + " on " + k.node + ": not killed: " + k.error;
  std::string s = "killed " + k.pid.value_or("?") + " (" +
                  (t.kind == proto::ProcessTarget::Kind::name ? t.name : "child " + k.child_id + " of " + t.name) +
                  ") on " + k.node;
  if (k.killed_us)
    s += ", " + fixed(static_cast<double>(*k.killed_us - k.planned_us) / 1000, 2) + " ms after the planned instant";
  if (k.restarted && k.restarted_us && k.killed_us)
    return s + "; restarted after " + fixed(static_cast<double>(*k.restarted_us - *k.killed_us) / 1000, 2) + " ms as " +
           k.new_pid.value_or("?");
  return s + "; not restarted within " + std::to_string(k.restart_window_ms) + " ms";
}

std::vector<LinkReport> link_reports(const FaultOutcome& f) {
  std::map<Link, LinkReport> links;
  for (const auto& l : f.fault.topology.cut) {
    LinkReport r;
    r.link = l;
    r.cut = true;
    r.one_way = std::binary_search(f.fault.topology.one_way.begin(), f.fault.topology.one_way.end(), l);
    links.emplace(l, r);
  }
  for (const auto& d : f.nodedowns) {
    if (d.hidden) continue;
    auto& r = links.try_emplace(link_of(d.observer, d.peer), LinkReport{link_of(d.observer, d.peer)}).first->second;
    if (!r.first_down || d.after_us < r.first_down->after_us) r.first_down = d;
  }
  for (const auto& u : f.nodeups) {
    const auto it = links.find(link_of(u.observer, u.peer));
    if (it == links.end() || !it->second.first_down) continue;  // a link that never went down
    if (!it->second.up_after_heal_us || u.after_heal_us < *it->second.up_after_heal_us)
      it->second.up_after_heal_us = u.after_heal_us;
  }
  std::vector<LinkReport> out;
  for (auto& [l, r] : links) out.push_back(std::move(r));
  return out;
}

std::string loss_column(const FaultOutcome& f) {
  if (f.fault.paused || f.fault.killed || f.fault.killed_on || f.fault.stressed)
    return "-";  // nothing is dropped: the node is stopped, killed or busy, or a process killed
  if (f.fault.loss.total()) return loss_text(f.fault.loss);
  const auto rate = f.loss_rate();
  if (!rate) return loss_text(f.fault.loss) + " (no packet)";
  char seen[32];
  std::snprintf(seen, sizeof seen, " (%.1f%% seen)", *rate * 100);
  return loss_text(f.fault.loss) + seen;
}

std::string summary(const std::vector<FaultOutcome>& faults, const ClusterInfo& cluster) {
  std::ostringstream os;
  const auto w = cluster.window();
  os << "net_ticktime " << cluster.net_ticktime_ms << " ms, detection window " << w.min_ms << "-" << w.max_ms
     << " ms\n";
  std::vector<std::vector<std::string>> rows{{"#", "shape", "requested", "class", "loss", "outage", "dropped", "links cut",
                                              "went down", "cut, no nodedown", "cascades", "hidden peers"}};
  std::string details;
  for (const auto& f : faults) {
    const auto links = link_reports(f);
    std::size_t down = 0, silent = 0, cascades = 0, hidden = 0;
    for (const auto& l : links) {
      if (l.cut && l.first_down) ++down;
      if (l.cut && !l.first_down) ++silent;
      if (!l.cut) ++cascades;
    }
    for (const auto& d : f.nodedowns) hidden += d.hidden ? 1 : 0;
    const auto& t = f.fault.topology;
    rows.push_back({std::to_string(f.fault.number), f.fault.shape,
                    f.fault.requested + " = " + std::to_string(f.fault.duration_ms) + "ms",
                    f.fault.killed_on ? "-" : window_class_name(f.fault.window_class), loss_column(f),
                    !f.landed                    ? "not landed"
                    : f.effective_outage_us >= 0 ? seconds(f.effective_outage_us)
                                                 : "n/a",
                    std::to_string(f.dropped_packets),
                    std::to_string(t.cut.size()) +
                        (t.one_way.empty() ? "" : " (" + std::to_string(t.one_way.size()) + " one way)"),
                    std::to_string(down), std::to_string(silent), std::to_string(cascades), std::to_string(hidden)});
    // Per link: intended (cut or not) against observed (first nodedown, reconnection).
    details += "fault " + std::to_string(f.fault.number) + " (" + f.fault.shape + "), after the window's start:\n";
    if (f.fault.killed_on) details += "  " + kill_text(f) + "\n";
    std::vector<std::vector<std::string>> lines;
    for (const auto& l : links) {
      const bool busy_end = f.fault.stressed && (l.link.first == *f.fault.stressed || l.link.second == *f.fault.stressed);
      const char* how = busy_end         ? "not cut (an end busy)"
                        : !l.cut         ? "not cut"
                        : f.fault.paused ? "silent (an end stopped)"
                        : f.fault.killed ? "closed (an end killed)"
                        : l.one_way      ? "cut one way"
                                         : "cut";
      std::vector<std::string> line{"  " + link_text(l.link), how};
      if (l.first_down) {
        const auto& d = *l.first_down;
        line.push_back("down at " + seconds(d.after_us) + " (" + d.observer + " saw " + d.reason + ")" +
                       (d.after_window ? " after the window closed" : ""));
      } else {
        line.push_back("no nodedown");
      }
      if (!l.cut) line.back() += "  [cascade]";
      if (l.up_after_heal_us)
        line.push_back("up again " + seconds(*l.up_after_heal_us) + " after the window closed");
      else if (l.first_down)
        line.push_back("no nodeup seen by " + seconds(std::max<std::int64_t>(0, f.followed_until_us - f.end_us)) +
                       " after the window closed");
      lines.push_back(std::move(line));
    }
    for (const auto& d : f.nodedowns)
      if (d.hidden)
        lines.push_back({"  " + d.observer + " <- " + d.peer, "hidden peer",
                         "down at " + seconds(d.after_us) + " (" + d.reason + "), not a cascade"});
    details += table(lines);
    details += stress_line(f);
  }
  os << table(rows) << details;
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
    os << "  fault " << f.number << " (line " << f.line << "): " << f.shape << ", "
       << (f.killed_on ? "restart window " : "") << f.duration_ms << " ms (" << f.requested
       << (f.killed_on ? "" : std::string(", ") + window_class_name(f.window_class)) << ")"
       << (f.loss.total() ? "" : ", loss " + loss_text(f.loss))
       << (f.call_class ? ", sized by call_timeout " + std::to_string(f.call_class->call_timeout_ms) + " ms" : "")
       << "\n";
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
    const auto& t = f.topology;
    if (f.killed_on) {
      const auto& k = f.kill_target;
      os << "    " << cluster.agent_of.at(*f.killed_on) << " has " << *f.killed_on
         << "'s watcher kill (exit(Pid, kill)) "
         << (k.kind == proto::ProcessTarget::Kind::name ? "the process registered as " + k.name
                                                        : "a random child of the supervisor " + k.name)
         << " at the window's start, and watch " << f.duration_ms << " ms for its restart\n"
         << "    on distribution's TCP links: none cut\n";
      continue;
    }
    if (f.paused)
      os << "    " << cluster.agent_of.at(*f.paused) << " stops " << *f.paused
         << "'s OS process (SIGSTOP) for the window; its guard resumes it (SIGCONT) at the deadline\n";
    if (f.killed) {
      os << "    " << cluster.agent_of.at(*f.killed) << " kills " << *f.killed
         << "'s OS process (SIGKILL) at the start; ";
      if (f.restart_after_ms)
        os << "its guard starts it again " << *f.restart_after_ms << " ms later with the agent's --node-start command\n";
      else
        os << "the host's supervisor starts it again (no restart asked)\n";
    }
    if (f.stressed)
      os << "    " << cluster.agent_of.at(*f.stressed) << " has " << *f.stressed << " run " << f.hogs
         << " max-priority busy process(es) per online scheduler for the window; each ends by itself at the"
            " deadline\n";
    if (f.paused)
      os << "    on distribution's TCP links: " << t.cut.size() << " of " << t.cut.size() + t.up.size()
         << " silent (their end is stopped); who still reaches whom:";
    else if (f.killed)
      os << "    on distribution's TCP links: " << t.cut.size() << " of " << t.cut.size() + t.up.size()
         << " closed (their end is killed); who still reaches whom:";
    else if (f.stressed)  // nothing is dropped: ticks may only run late
      os << "    on distribution's TCP links: none cut (ticks from and to " << *f.stressed
         << " may run late); who still reaches whom:";
    else if (!f.loss.total())  // nothing is cut for sure: the groups are who would be apart at 100%
      os << "    on distribution's TCP links: " << t.cut.size() << " of " << t.cut.size() + t.up.size()
         << " lossy (" << loss_text(f.loss) << " of each packet dropped, not cut); apart if it were total:";
    else
      os << "    on distribution's TCP links: " << t.cut.size() << " of " << t.cut.size() + t.up.size()
         << " cut; who still reaches whom:";
    for (const auto& g : t.groups) {
      os << " [";
      for (std::size_t i = 0; i < g.size(); ++i) os << (i ? " " : "") << g[i];
      os << "]";
    }
    os << "\n";
    for (const auto& w : f.warnings) os << "    WARNING: " << w << "\n";
  }
  return os.str();
}

}  // namespace ticksplit::ctl
