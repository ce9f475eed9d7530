#include "controller/check/edn.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

#include "controller/check/read.hpp"

namespace ticksplit::check::edn {
namespace {

using nlohmann::json;

bool is_delimiter(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',' || c == '(' || c == ')' || c == '[' || c == ']' ||
         c == '{' || c == '}' || c == '"' || c == ';';
}

void append_utf8(std::string& s, unsigned cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// EDN text is UTF-8; JSON strings must be, strictly: nlohmann refuses to print overlong
// forms, surrogates (ED A0..BF) and code points past U+10FFFF, and every report prints values.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 0x2) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    static constexpr unsigned kLeast[] = {0, 0, 0x80, 0x800, 0x10000};  // shorter forms are overlong
    if (cp < kLeast[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// A map key as an object key: a keyword's or string's text, anything else as JSON.
std::string key_text(const json& k) { return k.is_string() ? k.get<std::string>() : k.dump(); }

class Reader {
 public:
  Reader(std::string_view text, const std::string& file) : t_(text), file_(file) {}

  // Skips whitespace, commas, comments and `#_` discards; false at the end of the text.
  bool more() {
    skip();
    return pos_ < t_.size();
  }

  std::vector<Form> top_level() {
    std::vector<Form> out;
    while (more()) {
      const auto line = line_;
      if (peek() == '[' || peek() == '(') {
        const char close = take() == '[' ? ']' : ')';
        for (;;) {
          if (!more()) fail("unterminated vector of ops", line);
          if (peek() == close) break;
          const auto at = line_;
          out.push_back({value(), at});
        }
        take();
      } else {
        out.push_back({value(), line});
      }
    }
    return out;
  }

  json value() {
    if (!more()) fail("unexpected end of input", line_);
    const auto line = line_;
    const char c = peek();
    switch (c) {
      case '"':
        return string();
      case '\\':
        return character();
      case '(':
        take();
        return sequence(')', line);
      case '[':
        take();
        return sequence(']', line);
      case '{':
        take();
        return map(line);
      case ')':
      case ']':
      case '}':
        fail(std::string("unexpected '") + c + "'", line);
      case ':': {
        take();
        auto name = token();
        if (!name.empty() && name[0] == ':') name.erase(0, 1);  // ::auto-resolved
        if (name.empty()) fail("a keyword needs a name", line);
        return name;
      }
      case '#':
        return dispatch(line);
      default:
        break;
    }
    const auto tok = token();
    if (tok.empty()) fail(std::string("unexpected character '") + c + "'", line);
    return atom(tok, line);
  }

  [[nodiscard]] std::size_t line() const { return line_; }

  [[noreturn]] void fail(const std::string& message, std::size_t line) const {
    throw ParseError(Where{file_, line}, message);
  }

 private:
  [[nodiscard]] char peek(std::size_t k = 0) const { return pos_ + k < t_.size() ? t_[pos_ + k] : '\0'; }
  char take() {
    const char c = t_[pos_++];
    if (c == '\n') ++line_;
    return c;
  }

  void skip() {
    while (pos_ < t_.size()) {
      const char c = peek();
      if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',') {
        take();
      } else if (c == ';') {
        while (pos_ < t_.size() && peek() != '\n') take();
      } else if (c == '#' && peek(1) == '_') {
        const auto line = line_;
        take();
        take();
        if (!more()) fail("#_ with nothing to discard", line);
        (void)value();
      } else {
        break;
      }
    }
  }

  std::string raw_token() {
    std::string s;
    while (pos_ < t_.size() && !is_delimiter(peek())) s += take();
    return s;
  }

  std::string token() {
    const auto line = line_;
    auto s = raw_token();
    if (!valid_utf8(s)) fail("invalid UTF-8", line);
    return s;
  }

  json dispatch(std::size_t line) {
    take();  // '#'
    if (peek() == '{') {
      take();
      return sequence('}', line);  // a set
    }
    if (peek() == '#') {  // ##Inf, ##-Inf, ##NaN
      take();
      const auto s = token();
      if (s == "Inf") return std::numeric_limits<double>::infinity();
      if (s == "-Inf") return -std::numeric_limits<double>::infinity();
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      fail("unknown symbolic value ##" + s, line);
    }
    if (token().empty()) fail("a tagged literal needs a tag", line);
    if (!more()) fail("a tag with no value", line);
    return value();  // #inst "...", #uuid "...", #jepsen.history.Op{...}: the value
  }

  json sequence(char close, std::size_t line) {
    Depth d(*this, line);
    json out = json::array();
    for (;;) {
      if (!more()) fail(std::string("no closing '") + close + "'", line);
      if (peek() == close) break;
      out.push_back(value());
    }
    take();
    return out;
  }

  json map(std::size_t line) {
    Depth d(*this, line);
    json out = json::object();
    for (;;) {
      if (!more()) fail("no closing '}'", line);
      if (peek() == '}') break;
      auto k = value();
      if (!more() || peek() == '}') fail("a map needs an even number of forms", line);
      out[key_text(k)] = value();
    }
    take();
    return out;
  }

  json string() {
    const auto line = line_;
    take();  // '"'
    std::string s;
    for (;;) {
      if (pos_ >= t_.size()) fail("unterminated string", line);
      const char c = take();
      if (c == '"') {
        if (!valid_utf8(s)) fail("invalid UTF-8 in a string", line);
        return s;
      }
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= t_.size()) fail("unterminated string", line);
      switch (const char e = take()) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case '"':
        case '\\':
        case '/':
          s += e;
          break;
        case 'u': {
          // Outside the BMP, JSON-style escapes come as a surrogate pair: join it; a lone
          // half names no character.
          unsigned cp = hex4(line);
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a lone low surrogate \\u escape in a string", line);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 2 > t_.size() || t_[pos_] != '\\' || t_[pos_ + 1] != 'u')
              fail("a high surrogate \\u escape without its low half", line);
            take();
            take();
            const unsigned low = hex4(line);
            if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate \\u escape without its low half", line);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(s, cp);
          break;
        }
        default:
          fail(std::string("unknown escape \\") + e + " in a string", line_);
      }
    }
  }

  unsigned hex4(std::size_t line) {
    if (pos_ + 4 > t_.size()) fail("\\u needs four hex digits", line);
    unsigned cp = 0;
    const auto* first = t_.data() + pos_;
    const auto r = std::from_chars(first, first + 4, cp, 16);
    if (r.ptr != first + 4) fail("\\u needs four hex digits", line);
    for (int i = 0; i < 4; ++i) take();
    return cp;
  }

  json character() {
    const auto line = line_;
    take();  // '\'
    if (pos_ >= t_.size()) fail("a character literal needs a character", line);
    std::string name(1, take());
    name += raw_token();
    if (!valid_utf8(name)) fail("invalid UTF-8", line);
    if (name.size() == 1 || static_cast<unsigned char>(name[0]) >= 0x80) return name;  // one character
    if (name == "newline") return "\n";
    if (name == "space") return " ";
    if (name == "tab") return "\t";
    if (name == "return") return "\r";
    if (name == "formfeed") return "\f";
    if (name == "backspace") return "\b";
    if (name.size() == 5 && name[0] == 'u') {
      unsigned cp = 0;
      const auto r = std::from_chars(name.data() + 1, name.data() + 5, cp, 16);
      if (r.ptr == name.data() + 5 && (cp < 0xD800 || cp > 0xDFFF)) {
        std::string s;
        append_utf8(s, cp);
        return s;
      }
    }
    fail("unknown character literal \\" + name, line);
  }

  json atom(const std::string& tok, std::size_t line) const {
    if (tok == "nil") return nullptr;
    if (tok == "true") return true;
    if (tok == "false") return false;
    const bool sign = tok[0] == '+' || tok[0] == '-';
    if (std::isdigit(static_cast<unsigned char>(tok[0])) == 0 &&
        !(sign && tok.size() > 1 && std::isdigit(static_cast<unsigned char>(tok[1])) != 0))
      return tok;  // a symbol
    return number(tok, line);
  }

  json number(std::string tok, std::size_t line) const {
    const auto bad = [&] { fail("bad number " + tok, line); };
    if (const auto slash = tok.find('/'); slash != std::string::npos) {  // a ratio
      const auto n = number(tok.substr(0, slash), line), d = number(tok.substr(slash + 1), line);
      if (!n.is_number() || !d.is_number() || d.get<double>() == 0) bad();
      return n.get<double>() / d.get<double>();
    }
    const char suffix = tok.back();
    if (suffix == 'N' || suffix == 'M') tok.pop_back();
    if (suffix == 'M' || tok.find_first_of(".eE") != std::string::npos) {
      char* end = nullptr;
      const double v = std::strtod(tok.c_str(), &end);
      if (end != tok.c_str() + tok.size()) bad();
      return v;
    }
    const char* first = tok.c_str() + (tok[0] == '+' ? 1 : 0);
    const char* last = tok.c_str() + tok.size();
    std::int64_t v = 0;
    if (auto r = std::from_chars(first, last, v); r.ptr == last && r.ec == std::errc()) return v;
    std::uint64_t u = 0;
    if (auto r = std::from_chars(first, last, u); r.ptr == last && r.ec == std::errc()) return u;
    char* end = nullptr;
    const double d = std::strtod(tok.c_str(), &end);  // beyond 64 bits: approximate
    if (end != tok.c_str() + tok.size()) bad();
    return d;
  }

  struct Depth {
    Depth(Reader& r, std::size_t line) : r_(r) {
      if (++r_.depth_ > kMaxNesting) r_.fail("nested too deeply", line);
    }
    ~Depth() { --r_.depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    Reader& r_;
  };

  std::string_view t_;
  const std::string& file_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  int depth_ = 0;
};

}  // namespace

std::vector<Form> read_top_level(std::string_view text, const std::string& file) {
  return Reader(text, file).top_level();
}

nlohmann::json read_value(std::string_view text, const std::string& file) {
  Reader r(text, file);
  if (!r.more()) r.fail("no value", 1);
  auto v = r.value();
  if (r.more()) r.fail("more than one value", r.line());
  return v;
}

}  // namespace ticksplit::check::edn
