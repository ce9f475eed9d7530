#include "common/ei/encode.hpp"

#include <climits>
#include <cstring>

#include "common/ei/native.hpp"

namespace ticksplit::ei {
namespace {

Error too_long(const char* what, const std::string& s) {
  return codec_error(std::string(what) + " name too long to encode: " + s);
}

bool copy_node(char (&dst)[MAXATOMLEN_UTF8], const std::string& node) {
  if (node.size() >= sizeof dst) return false;
  std::memcpy(dst, node.c_str(), node.size() + 1);
  return true;
}

// ei has no encoder for bignums without GMP; the wire form is simple enough to append.
void append_big(XBuff& x, const BigInt& b) {
  std::string out;
  const auto n = b.digits.size();
  if (n <= 255) {
    out.push_back(static_cast<char>(110));  // SMALL_BIG_EXT
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back(static_cast<char>(111));  // LARGE_BIG_EXT
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out.push_back(b.negative ? 1 : 0);
  out.append(b.digits.begin(), b.digits.end());
  ei_x_append_buf(x.get(), out.data(), static_cast<int>(out.size()));
}

struct Encoder {
  XBuff& x;

  Status operator()(const Atom& a) const {
    if (ei_x_encode_atom_len_as(x.get(), a.name.data(), static_cast<int>(a.name.size()), ERLANG_UTF8, ERLANG_UTF8) < 0)
      return too_long("atom", a.name);
    return success();
  }
  Status operator()(std::int64_t i) const {
    ei_x_encode_longlong(x.get(), i);
    return success();
  }
  Status operator()(const BigInt& b) const {
    append_big(x, b);
    return success();
  }
  Status operator()(double d) const {
    ei_x_encode_double(x.get(), d);
    return success();
  }
  Status operator()(const Binary& b) const {
    if (b.bytes.size() > static_cast<std::size_t>(INT_MAX)) return codec_error("binary too large to encode");
    ei_x_encode_binary(x.get(), b.bytes.data(), static_cast<int>(b.bytes.size()));
    return success();
  }
  Status operator()(const Tuple& t) const {
    ei_x_encode_tuple_header(x.get(), static_cast<long>(t.items.size()));
    return all(t.items);
  }
  Status operator()(const List& l) const {
    if (!l.items.empty()) {
      ei_x_encode_list_header(x.get(), static_cast<long>(l.items.size()));
      if (auto s = all(l.items); !s) return s;
    }
    if (l.tail) return encode_term(*l.tail, x);
    ei_x_encode_empty_list(x.get());
    return success();
  }
  Status operator()(const Map& m) const {
    ei_x_encode_map_header(x.get(), static_cast<long>(m.entries.size()));
    for (const auto& [k, v] : m.entries) {
      if (auto s = encode_term(k, x); !s) return s;
      if (auto s = encode_term(v, x); !s) return s;
    }
    return success();
  }
  Status operator()(const Pid& p) const {
    auto ep = to_erlang_pid(p);
    if (!ep) return ep.error();
    ei_x_encode_pid(x.get(), &*ep);
    return success();
  }
  Status operator()(const Ref& r) const {
    erlang_ref er{};
    if (!copy_node(er.node, r.node)) return too_long("ref node", r.node);
    if (r.ids.empty() || r.ids.size() > 5) return codec_error("reference must have 1..5 words");
    er.len = static_cast<int>(r.ids.size());
    for (std::size_t i = 0; i < r.ids.size(); ++i) er.n[i] = r.ids[i];
    er.creation = r.creation;
    ei_x_encode_ref(x.get(), &er);
    return success();
  }
  Status operator()(const Port& p) const {
    erlang_port ep{};
    if (!copy_node(ep.node, p.node)) return too_long("port node", p.node);
    ep.id = p.id;
    ep.creation = p.creation;
    ei_x_encode_port(x.get(), &ep);
    return success();
  }

  Status all(const std::vector<Term>& items) const {
    for (const auto& t : items)
      if (auto s = encode_term(t, x); !s) return s;
    return success();
  }
};

}  // namespace

Status encode_term(const Term& t, XBuff& x) { return std::visit(Encoder{x}, t.value); }

Result<XBuff> encode(const Term& t) {
  XBuff x;
  ei_x_encode_version(x.get());
  if (auto s = encode_term(t, x); !s) return s.error();
  return x;
}

}  // namespace ticksplit::ei
