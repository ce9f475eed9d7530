// Jepsen's EDN history (jepsen.history, Knossos) → events. Each top-level form, or each element
// of a top-level vector, is one op map: `:type` (:invoke :ok :fail :info), `:f`, `:value`,
// `:process`, `:time` (ns since the test began; µs = ns / 1000), optional `:index`. Ops whose
// `:process` is not an integer (the nemesis) are skipped. Histories without any `:time`
// (Knossos' test files) are timed by position: the n-th op at n µs.
#include <algorithm>

#include "controller/check/edn.hpp"
#include "controller/check/read.hpp"

namespace ticksplit::check {
namespace {

using nlohmann::json;

bool is_client_op(const json& m) {
  const auto p = m.find("process");
  return p != m.end() && p->is_number_integer();
}

OpEvent edn_op(const json& m, const Where& at) {
  OpEvent e;
  e.at = at;
  const auto type = m.value("type", json()).is_string() ? m["type"].get<std::string>() : "";
  if (!e.set_type(type))
    throw ParseError(at, ":type must be :invoke, :ok, :fail or :info, not " + shown(m.value("type", json())));
  e.process = m["process"].get<std::int64_t>();
  const auto f = m.value("f", json());
  const auto fn = f.is_string() ? fn_from(f.get<std::string>()) : std::nullopt;
  if (!fn)
    throw ParseError(at, ":f must be one of :read :write :cas :append :add :enqueue :dequeue :drain, not " + shown(f));
  e.f = *fn;
  e.value = m.value("value", json());
  if (const auto k = m.find("key"); k != m.end() && !k->is_null()) e.key = *k;
  if (const auto n = m.find("node"); n != m.end() && n->is_string()) e.node = n->get<std::string>();
  return e;
}

}  // namespace

Events read_edn(std::string_view text, const std::string& file) {
  Events out;
  out.files.push_back(file);
  const auto forms = edn::read_top_level(text, file);
  const bool timed = std::any_of(forms.begin(), forms.end(), [](const edn::Form& f) {
    return f.value.is_object() && is_client_op(f.value) && f.value.contains("time");
  });
  std::int64_t position = 0;
  for (const auto& form : forms) {
    const Where at{file, form.line};
    if (!form.value.is_object()) throw ParseError(at, "expected an op map, not " + shown(form.value));
    if (!is_client_op(form.value)) continue;  // :nemesis, nil, ...
    auto e = edn_op(form.value, at);
    if (timed) {
      const auto t = form.value.find("time");
      if (t == form.value.end() || !t->is_number_integer())
        throw ParseError(at, ":time must be an integer (ns since the test began)");
      e.time_us = t->get<std::int64_t>() / 1000;
    } else {
      e.time_us = position++;
    }
    out.first_us = std::min(out.first_us.value_or(e.time_us), e.time_us);
    out.ops.push_back(std::move(e));
  }
  return out;
}

}  // namespace ticksplit::check
