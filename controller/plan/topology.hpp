// What a fault really does to distribution. Distribution runs over one TCP connection per pair
// of nodes, and a connection survives only if neither end drops the other: with one direction
// dropped, the other end's segments go unacknowledged, retransmission backs off, both ends stop
// hearing ticks, and both time out (the end that still receives just detects it later). So a
// one-way cut is a two-way outage, and a shape built of one-way cuts may collapse into another:
// majorities_ring on 3 nodes cuts every link, and every node ends up alone
// (docs/tick-window.md, "What TCP does to a drop"; tests/data/golden/topology.txt, shared with
// ticksplit_groups:effective/2).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "controller/plan/drop_sets.hpp"

namespace ticksplit::ctl {

using Link = std::pair<std::string, std::string>;  // first < second

struct Topology {
  std::vector<Link> cut;      // links that go down: at least one end drops the other (sorted)
  std::vector<Link> one_way;  // of those, the ones only one end drops
  std::vector<Link> up;       // links that stay up (sorted)
  Groups groups;              // the nodes that still reach each other (connected over `up`), each
                              // sorted, ordered by their first node
  bool operator==(const Topology&) const = default;
};

// Over every pair of `nodes` (a full mesh, as distribution makes it).
Topology effective_topology(const std::vector<std::string>& nodes, const Grudge& g);

// Where the effective topology is not what the shape promises, for people: one-way cuts that
// become two-way outages, and (majorities_ring) nodes left without a majority. Empty if none.
std::vector<std::string> topology_warnings(const std::string& shape, const std::vector<std::string>& nodes,
                                           const Topology& t);

bool is_cut(const Topology& t, const std::string& a, const std::string& b);
std::string link_text(const Link& l);  // "a@h1 - b@h2"

}  // namespace ticksplit::ctl
