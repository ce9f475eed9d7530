// The names of the checker's enums, as they appear in histories, on the command line and in
// reports.
#include <array>
#include <utility>

#include "controller/check/checker.hpp"
#include "controller/check/operation.hpp"
#include "controller/check/result.hpp"

namespace ticksplit::check {
namespace {
constexpr std::array<std::pair<Fn, const char*>, 8> kFns{{{Fn::read, "read"},
                                                          {Fn::write, "write"},
                                                          {Fn::cas, "cas"},
                                                          {Fn::append, "append"},
                                                          {Fn::add, "add"},
                                                          {Fn::enqueue, "enqueue"},
                                                          {Fn::dequeue, "dequeue"},
                                                          {Fn::drain, "drain"}}};
constexpr std::array<std::pair<Model, const char*>, 6> kModels{{{Model::register_, "register"},
                                                                {Model::cas_register, "cas-register"},
                                                                {Model::kv, "kv"},
                                                                {Model::set, "set"},
                                                                {Model::queue, "queue"},
                                                                {Model::counter, "counter"}}};
}  // namespace

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::ok: return "ok";
    case Status::fail: return "fail";
    case Status::info: return "info";
  }
  return "?";
}

const char* fn_name(Fn f) noexcept {
  for (const auto& [v, n] : kFns)
    if (v == f) return n;
  return "?";
}

std::optional<Fn> fn_from(const std::string& name) noexcept {
  for (const auto& [v, n] : kFns)
    if (name == n) return v;
  return std::nullopt;
}

const char* model_name(Model m) noexcept {
  for (const auto& [v, n] : kModels)
    if (v == m) return n;
  return "?";
}

std::optional<Model> model_from(const std::string& name) noexcept {
  for (const auto& [v, n] : kModels)
    if (name == n) return v;
  return std::nullopt;
}

bool model_accepts(Model m, Fn f) noexcept {
  switch (m) {
    case Model::register_: return f == Fn::read || f == Fn::write;
    case Model::cas_register: return f == Fn::read || f == Fn::write || f == Fn::cas;
    case Model::kv: return f == Fn::read || f == Fn::write || f == Fn::cas || f == Fn::append;
    case Model::set: return f == Fn::add || f == Fn::read;
    case Model::queue: return f == Fn::enqueue || f == Fn::dequeue || f == Fn::drain;
    case Model::counter: return f == Fn::add || f == Fn::read;
  }
  return false;
}

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::valid: return "valid";
    case Verdict::invalid: return "invalid";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

Verdict combine(Verdict a, Verdict b) noexcept {
  if (a == Verdict::invalid || b == Verdict::invalid) return Verdict::invalid;
  if (a == Verdict::unknown || b == Verdict::unknown) return Verdict::unknown;
  return Verdict::valid;
}

}  // namespace ticksplit::check
