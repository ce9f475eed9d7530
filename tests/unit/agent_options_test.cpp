#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "agent/options.hpp"
#include "common/error.hpp"

using ticksplit::ConfigError;
using ticksplit::agent::parse_options;

namespace {
// A cookie file in a fresh temporary directory, removed at scope exit.
struct TempCookie {
  std::string dir, path;
  explicit TempCookie(const char* content, mode_t mode) {
    char tmpl[] = "/tmp/ticksplit-test-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/cookie";
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
  }
  ~TempCookie() {
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
};

ticksplit::agent::Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ticksplit-agent");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a full command line parses, the name defaults from the first node") {
  TempCookie c("secret\n", 0400);
  auto p = parse({"--node", "app@198.51.100.11", "--node", "b@198.51.100.11", "--cookie-file", c.path, "--exempt",
                  "198.51.100.1", "--exempt", "2001:db8::/32", "--max-fault", "90s"});
  REQUIRE(p.options);
  CHECK(p.options->name == "ticksplit@198.51.100.11");
  CHECK(p.options->nodes.size() == 2);
  CHECK(p.options->cookie == "secret");  // trailing newline is not part of it
  CHECK(p.options->exempt.size() == 2);
  CHECK(p.options->max_fault_ms == 90000);
  CHECK(p.options->forward_logs == "notice");  // the default
  CHECK(parse({"--node", "a@h", "--cookie-file", c.path, "--forward-logs", "none"}).options->forward_logs == "none");
  CHECK(parse({"--node", "a@h", "--cookie-file", c.path, "--forward-logs", "debug"}).options->forward_logs == "debug");
}

TEST_CASE("help and version need no cookie") {
  CHECK(parse({"--help"}).text.find("--cookie-file") != std::string::npos);
  CHECK(parse({"--version"}).text.find("ticksplit-agent") != std::string::npos);
}

TEST_CASE("a cookie file others can read is refused, like Erlang does") {
  TempCookie c("secret", 0644);
  const auto msg = error_of({"--node", "a@h", "--cookie-file", c.path});
  CHECK(msg.find("owner only") != std::string::npos);
  CHECK(msg.find("0644") != std::string::npos);
  CHECK(msg.find("secret") == std::string::npos);  // never echo the cookie
}

TEST_CASE("configuration mistakes are clear errors") {
  TempCookie c("secret", 0600);
  CHECK(error_of({"--cookie-file", c.path}).find("--node") != std::string::npos);
  CHECK(error_of({"--node", "nohost", "--cookie-file", c.path}).find("name@host") != std::string::npos);
  CHECK(error_of({"--node", "a@h", "--cookie-file", "/nonexistent/cookie"}).find("cannot read") != std::string::npos);
  CHECK(error_of({"--node", "a@h", "--cookie-file", c.path, "--exempt", "x"}).find("--exempt") != std::string::npos);
  CHECK(error_of({"--node", "a@h", "--cookie-file", c.path, "--max-fault", "0s"}).find("--max-fault") !=
        std::string::npos);
  CHECK(error_of({"--node", "a@h", "--cookie-file", c.path, "--log-level", "loud"}).find("--log-level") !=
        std::string::npos);
  CHECK(error_of({"--node", "a@h", "--cookie-file", c.path, "--forward-logs", "warn"}).find("--forward-logs") !=
        std::string::npos);  // OTP's names, not spdlog's
  CHECK(error_of({"--node", "a@h", "--bogus"}).find("bogus") != std::string::npos);
  CHECK(error_of({"--node", "a@h", "--name", "a@h", "--cookie-file", c.path}).find("also given") != std::string::npos);
  TempCookie empty("\n", 0600);
  CHECK(error_of({"--node", "a@h", "--cookie-file", empty.path}).find("empty") != std::string::npos);
}

TEST_CASE("--cleanup needs no node and no cookie, and ignores the node options a config file gives") {
  auto p = parse({"--cleanup"});
  REQUIRE(p.options);
  CHECK(p.options->cleanup);
  CHECK(p.options->interfaces.empty());
  p = parse({"--cleanup", "--node", "app@198.51.100.11", "--cookie-file", "/nonexistent/cookie", "--exempt",
             "198.51.100.1", "--interface", "eth0", "--interface", "eth1", "--state-dir", "/nonexistent"});
  REQUIRE(p.options);
  CHECK(p.options->cleanup);
  CHECK(p.options->interfaces == std::vector<std::string>{"eth0", "eth1"});
  CHECK(p.options->cookie.empty());
  CHECK_THROWS_AS(parse({"--cleanup", "--interface", "a/b"}), ConfigError);
  CHECK_THROWS_AS(parse({"--cleanup", "--log-level", "loud"}), ConfigError);
  CHECK_FALSE(parse({"--help"}).options);
}
