// The checkers: a model name and one independent history (one key's operations, in call
// order) → a KeyResult. `check.cpp` splits a History per key and calls these.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "controller/check/operation.hpp"
#include "controller/check/result.hpp"

namespace ticksplit::check {

enum class Model { register_, cas_register, kv, set, queue, counter };
const char* model_name(Model m) noexcept;
std::optional<Model> model_from(const std::string& name) noexcept;
// Which operations a model accepts (e.g. `register`: read, write).
bool model_accepts(Model m, Fn f) noexcept;

// Linearizability of a register, cas-register or kv (one key) history by a WGL search
// (linearizable.cpp). `ops` are one key's operations sorted by call_us; their `id`s are kept
// in the anomalies.
KeyResult check_linearizable(Model m, std::span<const Operation> ops, const Budget& budget);

// Jepsen's set, total-queue and counter checkers (set.cpp, queue.cpp, counter.cpp).
KeyResult check_set(std::span<const Operation> ops);
KeyResult check_queue(std::span<const Operation> ops);
// Values of the wrong shape (pair() refuses them in a history file, naming the line) come out
// as "malformed" anomalies here, never a crash.
KeyResult check_counter(std::span<const Operation> ops);

// Dispatch on the model.
KeyResult check_one(Model m, std::span<const Operation> ops, const Budget& budget);

}  // namespace ticksplit::check
