// The wire shape of the fault engine's typed results (common/proto/fault.hpp), in one place:
// events as the agent records and sends them and the controller reads them back, refusals as
// the Reason of {error, Reason}, status entries. docs/protocol.md describes the same shapes.
#pragma once

#include <optional>

#include "common/ei/term.hpp"
#include "common/error.hpp"
#include "common/proto/event.hpp"
#include "common/proto/fault.hpp"

namespace ticksplit::proto {

// As recorded and sent (seq is the log's to give).
Event to_event(const TimedFaultEvent& e);
// Read back from what an agent sent; an Error if the event is not a fault event or a field is
// missing or malformed.
Result<FaultEvent> fault_event_from(const Event& e);

// A loss probability as requests and events carry it: a float in (0, 1], or the integer 1.
std::optional<Loss> loss_of_term(const ei::Term& t) noexcept;

ei::Term to_term(const Refusal& r);
ei::Term to_term(const FaultStatus& s);
ei::Term to_term(const PauseStatus& s);
ei::Term to_term(const KillStatus& s);
ei::Term to_term(const StressStatus& s);

}  // namespace ticksplit::proto
