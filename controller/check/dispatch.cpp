// check_one: the model decides which checker reads the history.
#include "controller/check/checker.hpp"

namespace ticksplit::check {

KeyResult check_one(Model m, std::span<const Operation> ops, const Budget& budget) {
  switch (m) {
    case Model::register_:
    case Model::cas_register:
    case Model::kv:
      return check_linearizable(m, ops, budget);
    case Model::set:
      return check_set(ops);
    case Model::queue:
      return check_queue(ops);
    case Model::counter:
      return check_counter(ops);
  }
  return check_linearizable(m, ops, budget);
}

}  // namespace ticksplit::check
