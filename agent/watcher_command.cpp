#include "agent/watcher_command.hpp"

namespace ticksplit::agent::watcher {

using ei::atom;

ei::Term command_message(ei::Term command) { return ei::tuple({atom("ticksplit_agent"), std::move(command)}); }

ei::Term to_command(const KillProcessCommand& c) {
  const bool by_name = c.target.kind == proto::ProcessTarget::Kind::name;
  return ei::tuple({atom("kill_process"), ei::binary(c.id),
                    ei::tuple({atom(by_name ? "name" : "child_of"), atom(c.target.name)}), c.start_at_us,
                    c.restart_window_ms});
}

ei::Term to_command(const StressCommand& c) {
  return ei::tuple({atom("stress"), ei::binary(c.id), c.start_at_us, c.end_at_us, ei::atom_map({{"hogs", c.hogs}})});
}

ei::Term stress_stop_command(const std::string& id) { return ei::tuple({atom("stress_stop"), ei::binary(id)}); }

}  // namespace ticksplit::agent::watcher
