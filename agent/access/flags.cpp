#include "agent/access/flags.hpp"

#include <netinet/in.h>

#include <algorithm>

#include "agent/access/name_pattern.hpp"
#include "agent/access/peer_filter.hpp"
#include "common/error.hpp"

namespace ticksplit::agent::access {

namespace {

// The longest address text with a prefix ("ffff:...:255.255.255.255/128"); anything longer is
// refused before it is parsed or echoed.
constexpr std::size_t kMaxAddressText = 64;

// What an error message shows of a user's text: at most `limit` bytes, printable, quoted.
std::string shown(const std::string& text, std::size_t limit = kMaxAddressText) {
  std::string s = text.substr(0, limit);
  for (auto& c : s)
    if (c < ' ' || c > '~') c = '?';
  return "'" + s + (text.size() > limit ? "...'" : "'");
}

net::Cidr parse_address(const char* flag, const std::string& text) {
  if (text.size() > kMaxAddressText)
    throw ConfigError(std::string(flag) + " " + shown(text) + ": too long for an address");
  auto c = net::parse_cidr(text);
  if (!c) throw ConfigError(std::string(flag) + ": " + shown(text) + " is not an address or CIDR");
  return *c;
}

}  // namespace

net::Cidr parse_listen(const std::string& text) {
  if (text.find('/') != std::string::npos) throw ConfigError("--listen " + shown(text) + ": one address, not a block");
  const auto a = parse_address("--listen", text);
  if (net::is_unspecified(a))
    throw ConfigError("--listen " + shown(text) +
                      ": the unspecified address means every address, which is the "
                      "default; give one address of this host");
  if (a.family == AF_INET6 && a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80)
    throw ConfigError("--listen " + shown(text) +
                      ": an IPv6 link-local address needs an interface scope; give "
                      "another address");
  return a;
}

void check_listen_matches_name(const net::Cidr& listen, const std::string& agent_name) {
  const auto host = agent_name.substr(agent_name.find('@') + 1);
  const auto literal = net::parse_cidr(host);
  if (literal && !(*literal == listen))
    throw ConfigError("--listen " + shown(listen.to_string().substr(0, listen.to_string().rfind('/'))) +
                      " but the agent's name " + agent_name + " makes peers connect to " + host +
                      ", where it would not listen; give --name with the --listen address");
}

std::vector<net::Cidr> parse_allow_from(const std::vector<std::string>& texts) {
  if (texts.size() > max_allow_from)
    throw ConfigError("--allow-from given " + std::to_string(texts.size()) + " times; at most " +
                      std::to_string(max_allow_from));
  std::vector<net::Cidr> out;
  for (const auto& t : texts) out.push_back(parse_address("--allow-from", t));
  return out;
}

std::vector<std::string> parse_allow(const std::vector<std::string>& texts) {
  if (texts.size() > max_patterns)
    throw ConfigError("--allow given " + std::to_string(texts.size()) + " times; at most " +
                      std::to_string(max_patterns));
  for (const auto& t : texts)
    if (auto why = pattern_problem(t)) throw ConfigError("--allow " + shown(t, 80) + ": " + *why);
  return texts;
}

}  // namespace ticksplit::agent::access
