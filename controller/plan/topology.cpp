#include "controller/plan/topology.hpp"

#include <algorithm>
#include <map>

namespace ticksplit::ctl {

namespace {

bool drops(const Grudge& g, const std::string& who, const std::string& whom) {
  const auto it = g.find(who);
  return it != g.end() && it->second.count(whom) > 0;
}

Link link_of(const std::string& a, const std::string& b) { return a < b ? Link{a, b} : Link{b, a}; }

}  // namespace

Topology effective_topology(const std::vector<std::string>& nodes, const Grudge& g) {
  std::vector<std::string> sorted = nodes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  Topology t;
  std::map<std::string, std::string> parent;  // union-find over the links that stay up
  for (const auto& n : sorted) parent[n] = n;
  const auto root = [&parent](std::string n) {
    while (parent[n] != n) n = parent[n] = parent[parent[n]];
    return n;
  };
  for (std::size_t i = 0; i < sorted.size(); ++i)
    for (std::size_t j = i + 1; j < sorted.size(); ++j) {
      const auto &a = sorted[i], &b = sorted[j];
      const bool ab = drops(g, a, b), ba = drops(g, b, a);
      if (ab || ba) {
        t.cut.push_back({a, b});
        if (ab != ba) t.one_way.push_back({a, b});
      } else {
        t.up.push_back({a, b});
        parent[root(a)] = root(b);
      }
    }
  std::map<std::string, std::vector<std::string>> components;
  for (const auto& n : sorted) components[root(n)].push_back(n);
  for (auto& [r, members] : components) t.groups.push_back(std::move(members));
  std::sort(t.groups.begin(), t.groups.end());
  return t;
}

bool is_cut(const Topology& t, const std::string& a, const std::string& b) {
  return std::binary_search(t.cut.begin(), t.cut.end(), link_of(a, b));
}

std::string link_text(const Link& l) { return l.first + " - " + l.second; }

std::vector<std::string> topology_warnings(const std::string& shape, const std::vector<std::string>& nodes,
                                           const Topology& t) {
  std::vector<std::string> out;
  if (!t.one_way.empty()) {
    std::string links;
    for (const auto& l : t.one_way) links += (links.empty() ? "" : ", ") + link_text(l);
    out.push_back(shape + ": " + std::to_string(t.one_way.size()) + " link(s) cut one way only (" + links +
                  "); distribution's TCP connection goes down both ways (the end that still receives "
                  "detects it later)");
  }
  if (shape == "majorities_ring") {
    const std::size_t majority = nodes.size() / 2 + 1;
    std::string alone;
    for (const auto& n : nodes) {
      std::size_t sees = 1;
      for (const auto& l : t.up) sees += l.first == n || l.second == n ? 1 : 0;
      if (sees < majority)
        alone += (alone.empty() ? "" : ", ") + n + " sees " + std::to_string(sees) + " of " +
                 std::to_string(nodes.size());
    }
    if (!alone.empty())
      out.push_back("majorities_ring on " + std::to_string(nodes.size()) +
                    " nodes is not a ring of majorities on TCP: " + alone + " (no majority)");
  }
  return out;
}

}  // namespace ticksplit::ctl
