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

std::string Error::describe() const { return std::string(domain_name(domain)) + ": " + message; }

// The errno text goes into the message itself: the message is what every caller logs or
// sends back ({backend, Message}), and "bpf(BPF_MAP_UPDATE_ELEM)" alone does not say that the
// map was full.
Error system_error(std::string context, int err) {
  if (err != 0) context += std::string(": ") + std::strerror(err) + " (errno " + std::to_string(err) + ")";
  return {Domain::system, err, std::move(context)};
}
Error codec_error(std::string message) { return {Domain::codec, 0, std::move(message)}; }
Error protocol_error(std::string message) { return {Domain::protocol, 0, std::move(message)}; }

}  // namespace ticksplit
