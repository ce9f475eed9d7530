#include "common/error.hpp"

#include <cstring>

namespace ticksplit {

const char* domain_name(Domain d) noexcept {
  switch (d) {
    case Domain::system:
      return "system";
    case Domain::ei:
      return "ei";
    case Domain::netlink:
      return "netlink";
    case Domain::codec:
      return "codec";
    case Domain::protocol:
      return "protocol";
    case Domain::config:
      return "config";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string s = std::string(domain_name(domain)) + ": " + message;
  if (code != 0 && domain == Domain::system) s += std::string(" (") + std::strerror(code) + ")";
  return s;
}

Error system_error(std::string context, int err) { return {Domain::system, err, std::move(context)}; }
Error codec_error(std::string message) { return {Domain::codec, 0, std::move(message)}; }
Error protocol_error(std::string message) { return {Domain::protocol, 0, std::move(message)}; }

}  // namespace ticksplit
