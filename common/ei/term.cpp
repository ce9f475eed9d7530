#include "common/ei/term.hpp"

#include <cstdio>
#include <limits>
#include <sstream>

namespace ticksplit::ei {

bool Tuple::operator==(const Tuple& o) const { return items == o.items; }

bool List::operator==(const List& o) const {
  if (items != o.items) return false;
  if (!tail || !o.tail) return !tail && !o.tail;
  return *tail == *o.tail;
}

bool Map::operator==(const Map& o) const { return entries == o.entries; }

bool Term::is_atom(std::string_view name) const noexcept {
  const auto* a = as<Atom>();
  return a != nullptr && a->name == name;
}

bool Term::is_nil() const noexcept {
  const auto* l = as<List>();
  return l != nullptr && l->items.empty() && !l->tail;
}

const Term* Term::get(std::string_view key) const noexcept {
  const auto* m = as<Map>();
  if (m == nullptr) return nullptr;
  for (const auto& [k, v] : m->entries)
    if (k.is_atom(key)) return &v;
  return nullptr;
}

const std::vector<Term>* Term::tuple_of(std::size_t n) const noexcept {
  const auto* t = as<Tuple>();
  return t != nullptr && t->items.size() == n ? &t->items : nullptr;
}

Term atom(std::string name) { return Atom{std::move(name)}; }
Term binary(std::string bytes) { return Binary{std::move(bytes)}; }
Term tuple(std::vector<Term> items) { return Tuple{std::move(items)}; }
Term list(std::vector<Term> items) { return List{std::move(items), nullptr}; }
Term improper_list(std::vector<Term> items, Term tail) {
  return List{std::move(items), std::make_shared<const Term>(std::move(tail))};
}
Term map(std::vector<std::pair<Term, Term>> entries) { return Map{std::move(entries)}; }
Term atom_map(std::initializer_list<std::pair<const char*, Term>> entries) {
  Map m;
  m.entries.reserve(entries.size());
  for (const auto& [k, v] : entries) m.entries.emplace_back(atom(k), v);
  return m;
}
Term ok_tuple(Term value) { return tuple({atom("ok"), std::move(value)}); }
Term error_tuple(Term reason) { return tuple({atom("error"), std::move(reason)}); }

namespace {

bool plain_atom(const std::string& s) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@')) return false;
  return true;
}

// Writes into a string that stops growing at `limits.max_chars`; deeper than `max_depth`,
// or past `max_items` elements of one container, it writes "..." instead. The loops stop as
// soon as the text is full, so printing a 10 MB binary for a log costs what the log keeps.
class Printer {
 public:
  Printer(std::string& out, const PrintLimits& limits) : out_(out), limits_(limits) {}

  void term(const Term& t) {
    if (full()) return;
    if (depth_ >= limits_.max_depth) {
      put("...");
      return;
    }
    ++depth_;
    std::visit(*this, t.value);
    --depth_;
  }

  void operator()(const Atom& a) {
    if (plain_atom(a.name)) {
      put(a.name);
    } else {
      put("'");
      put(a.name);
      put("'");
    }
  }
  void operator()(std::int64_t i) { put(std::to_string(i)); }
  void operator()(const BigInt& b) {
    put(b.negative ? "-16#" : "16#");
    for (auto it = b.digits.rbegin(); it != b.digits.rend() && !full(); ++it) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02X", *it);
      put(buf);
    }
  }
  void operator()(double d) {
    std::ostringstream os;
    os << d;
    put(os.str());
  }
  void operator()(const Binary& b) {
    bool printable = true;
    for (unsigned char c : b.bytes) printable = printable && c >= 0x20 && c < 0x7f && c != '"';
    if (printable) {
      put("<<\"");
      put(b.bytes);
      put("\">>");
      return;
    }
    put("<<");
    for (std::size_t i = 0; i < b.bytes.size() && !full(); ++i) {
      if (i) put(",");
      put(std::to_string(static_cast<unsigned>(static_cast<unsigned char>(b.bytes[i]))));
    }
    put(">>");
  }
  void operator()(const Tuple& t) {
    put("{");
    seq(t.items);
    put("}");
  }
  void operator()(const List& l) {
    put("[");
    seq(l.items);
    if (l.tail) {
      put("|");
      term(*l.tail);
    }
    put("]");
  }
  void operator()(const Map& m) {
    put("#{");
    for (std::size_t i = 0; i < m.entries.size() && !full(); ++i) {
      if (i) put(",");
      if (i == limits_.max_items) {
        put("...");
        break;
      }
      term(m.entries[i].first);
      put(" => ");
      term(m.entries[i].second);
    }
    put("}");
  }
  void operator()(const Pid& p) {
    put("<" + p.node + "." + std::to_string(p.num) + "." + std::to_string(p.serial) + ">");
  }
  void operator()(const Ref& r) {
    put("#Ref<" + r.node);
    for (auto id : r.ids) put("." + std::to_string(id));
    put(">");
  }
  void operator()(const Port& p) { put("#Port<" + p.node + "." + std::to_string(p.id) + ">"); }

 private:
  [[nodiscard]] bool full() const { return out_.size() >= limits_.max_chars; }
  void put(std::string_view text) {
    if (full()) return;
    out_.append(text.substr(0, limits_.max_chars - out_.size()));
  }
  void seq(const std::vector<Term>& items) {
    for (std::size_t i = 0; i < items.size() && !full(); ++i) {
      if (i) put(",");
      if (i == limits_.max_items) {
        put("...");
        break;
      }
      term(items[i]);
    }
  }

  std::string& out_;
  const PrintLimits& limits_;
  int depth_ = 0;
};

}  // namespace

std::string to_string(const Term& t, const PrintLimits& limits) {
  std::string out;
  Printer(out, limits).term(t);
  if (out.size() >= limits.max_chars) out += "...";
  return out;
}

std::string to_string(const Term& t) {
  return to_string(t, PrintLimits{std::numeric_limits<std::size_t>::max(), std::numeric_limits<int>::max(),
                                  std::numeric_limits<std::size_t>::max()});
}

}  // namespace ticksplit::ei
