#include "common/ei/term.hpp"

#include <cstdio>
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

void print(std::ostream& os, const Term& t);

void print_seq(std::ostream& os, const std::vector<Term>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) os << ',';
    print(os, items[i]);
  }
}

struct Printer {
  std::ostream& os;
  void operator()(const Atom& a) const {
    if (plain_atom(a.name))
      os << a.name;
    else
      os << '\'' << a.name << '\'';
  }
  void operator()(std::int64_t i) const { os << i; }
  void operator()(const BigInt& b) const {
    os << (b.negative ? "-" : "") << "16#";
    for (auto it = b.digits.rbegin(); it != b.digits.rend(); ++it) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02X", *it);
      os << buf;
    }
  }
  void operator()(double d) const { os << d; }
  void operator()(const Binary& b) const {
    bool printable = true;
    for (unsigned char c : b.bytes) printable = printable && c >= 0x20 && c < 0x7f && c != '"';
    if (printable) {
      os << "<<\"" << b.bytes << "\">>";
      return;
    }
    os << "<<";
    for (std::size_t i = 0; i < b.bytes.size(); ++i)
      os << (i ? "," : "") << static_cast<unsigned>(static_cast<unsigned char>(b.bytes[i]));
    os << ">>";
  }
  void operator()(const Tuple& t) const {
    os << '{';
    print_seq(os, t.items);
    os << '}';
  }
  void operator()(const List& l) const {
    os << '[';
    print_seq(os, l.items);
    if (l.tail) {
      os << '|';
      print(os, *l.tail);
    }
    os << ']';
  }
  void operator()(const Map& m) const {
    os << "#{";
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      if (i) os << ',';
      print(os, m.entries[i].first);
      os << " => ";
      print(os, m.entries[i].second);
    }
    os << '}';
  }
  void operator()(const Pid& p) const { os << "<" << p.node << '.' << p.num << '.' << p.serial << '>'; }
  void operator()(const Ref& r) const {
    os << "#Ref<" << r.node;
    for (auto id : r.ids) os << '.' << id;
    os << '>';
  }
  void operator()(const Port& p) const { os << "#Port<" << p.node << '.' << p.id << '>'; }
};

void print(std::ostream& os, const Term& t) { std::visit(Printer{os}, t.value); }

}  // namespace

std::string to_string(const Term& t) {
  std::ostringstream os;
  print(os, t);
  return os.str();
}

}  // namespace ticksplit::ei
