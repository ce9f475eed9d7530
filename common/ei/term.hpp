// A small value type for Erlang terms, as they cross the wire between BEAM nodes and
// ticksplit. Built for protocol messages, not for speed.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ticksplit::ei {

struct Term;

struct Atom {
  std::string name;  // UTF-8
  bool operator==(const Atom&) const = default;
};

// An integer that does not fit in int64: sign and little-endian magnitude bytes, exactly as
// in the external term format (no leading zero bytes).
struct BigInt {
  bool negative = false;
  std::vector<std::uint8_t> digits;
  bool operator==(const BigInt&) const = default;
};

struct Binary {
  std::string bytes;
  bool operator==(const Binary&) const = default;
};

struct Tuple {
  std::vector<Term> items;
  bool operator==(const Tuple&) const;
};

// A list; `tail` is null for a proper list and holds the final tail of an improper one.
struct List {
  std::vector<Term> items;
  std::shared_ptr<const Term> tail;
  bool operator==(const List&) const;
};

struct Map {
  std::vector<std::pair<Term, Term>> entries;  // in wire order
  bool operator==(const Map&) const;
};

struct Pid {
  std::string node;
  std::uint32_t num = 0;
  std::uint32_t serial = 0;
  std::uint32_t creation = 0;
  bool operator==(const Pid&) const = default;
};

struct Ref {
  std::string node;
  std::uint32_t creation = 0;
  std::vector<std::uint32_t> ids;  // 1..5 words
  bool operator==(const Ref&) const = default;
};

struct Port {
  std::string node;
  std::uint64_t id = 0;
  std::uint32_t creation = 0;
  bool operator==(const Port&) const = default;
};

struct Term {
  using Value = std::variant<Atom, std::int64_t, BigInt, double, Binary, Tuple, List, Map, Pid, Ref, Port>;
  Value value;

  Term() : value(List{}) {}  // [] is Erlang's natural empty value
  template <class T>
  Term(T v) : value(std::move(v)) {}       // NOLINT(google-explicit-constructor)
  Term(int v) : value(std::int64_t{v}) {}  // NOLINT(google-explicit-constructor)

  bool operator==(const Term& o) const { return value == o.value; }

  template <class T>
  [[nodiscard]] const T* as() const noexcept {
    return std::get_if<T>(&value);
  }
  template <class T>
  [[nodiscard]] bool is() const noexcept {
    return std::holds_alternative<T>(value);
  }

  [[nodiscard]] bool is_atom(std::string_view name) const noexcept;
  [[nodiscard]] bool is_nil() const noexcept;
  // For a map: the value under atom key `key`, or null.
  [[nodiscard]] const Term* get(std::string_view key) const noexcept;
  // For a tuple: its items if it has exactly `n`, else null.
  [[nodiscard]] const std::vector<Term>* tuple_of(std::size_t n) const noexcept;
};

// Builders that keep protocol code short.
Term atom(std::string name);
Term binary(std::string bytes);
Term tuple(std::vector<Term> items);
Term list(std::vector<Term> items);
Term improper_list(std::vector<Term> items, Term tail);
Term map(std::vector<std::pair<Term, Term>> entries);
// A map with atom keys.
Term atom_map(std::initializer_list<std::pair<const char*, Term>> entries);
Term ok_tuple(Term value);
Term error_tuple(Term reason);

// Erlang-like text for error messages and tests (io_lib:format("~p") style, abridged), whole.
std::string to_string(const Term& t);

// The same, cut like io_lib's ~P: at most `max_chars` characters (then "..."), "..." for
// terms deeper than `max_depth` and for elements past `max_items` of one container. Logs use
// this (log_text): what a peer sends must not grow the log by more than a line.
struct PrintLimits {
  std::size_t max_chars = 512;
  int max_depth = 8;
  std::size_t max_items = 32;
};
std::string to_string(const Term& t, const PrintLimits& limits);
inline std::string log_text(const Term& t) { return to_string(t, PrintLimits{}); }

}  // namespace ticksplit::ei
