#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
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

TEST_CASE("--listen, --allow-from and --allow parse exactly; defaults leave everything open") {
  TempCookie c("secret\n", 0400);
  const std::vector<std::string> base = {"--node", "app@198.51.100.11", "--cookie-file", c.path};
  const auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto p = parse(base);
  REQUIRE(p.options);
  CHECK_FALSE(p.options->listen);
  CHECK(p.options->allow_from.empty());
  CHECK(p.options->allow.empty());

  p = parse(with({"--listen", "198.51.100.11", "--allow-from", "198.51.100.1/32", "--allow-from", "2001:db8::/32",
                  "--allow", "app@198.51.100.1*", "--allow", "ctl_*"}));
  REQUIRE(p.options);
  CHECK(p.options->listen == *ticksplit::net::parse_cidr("198.51.100.11"));
  CHECK(p.options->allow_from.size() == 2);
  CHECK(p.options->allow == std::vector<std::string>{"app@198.51.100.1*", "ctl_*"});
  p = parse(with({"--listen", "2001:db8::11", "--name", "ticksplit@2001:db8::11"}));
  CHECK(p.options->listen == *ticksplit::net::parse_cidr("2001:db8::11"));
  p = parse(with({"--listen", "::ffff:198.51.100.11"}));  // the IPv4 address it maps
  CHECK(p.options->listen == *ticksplit::net::parse_cidr("198.51.100.11"));
  p = parse(with({"--listen", "198.51.100.11", "--name", "ticksplit@agent.example"}));  // a name may resolve to it
  CHECK(p.options->listen);
  // Peers would connect to the name's address, where it does not listen.
  CHECK(error_of(with({"--listen", "198.51.100.12"})).find("peers connect to 198.51.100.11") != std::string::npos);
  CHECK(error_of(with({"--listen", "2001:db8::11"})).find("--name") != std::string::npos);

  // --listen: one address literal of this host, nothing else.
  for (const char* bad : {"", "localhost", "198.51.100.11/32", "198.51.100.0/24", "0.0.0.0", "::", "198.51.100.256",
                          "198.51.100.11 ", " 198.51.100.11", "198.51.100.11:4369", "fe80::1", "fe80::1%eth0",
                          "2001:db8::/32", "1.2.3"})
    CHECK_MESSAGE(error_of(with({"--listen", bad})).find("--listen") != std::string::npos, bad);
  CHECK(error_of(with({"--listen", std::string(10'000, '1')})).size() < 300);  // bounded echo
  CHECK(error_of(with({"--listen", "198.51.100.11", "--listen", "198.51.100.12"})) != "");

  // --allow-from: addresses or blocks, host bits clear, at most 64.
  for (const char* bad : {"", "any", "198.51.100.1/33", "198.51.100.1/24", "198.51.100.0/", "example.com", "1.2.3.4/x"})
    CHECK_MESSAGE(error_of(with({"--allow-from", bad})).find("--allow-from") != std::string::npos, bad);
  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) {
    many.push_back("--allow-from");
    many.push_back("198.51.100." + std::to_string(i));
  }
  CHECK(error_of(with(many)).find("at most 64") != std::string::npos);
  many.resize(128);
  CHECK(parse(with(many)).options->allow_from.size() == 64);

  // --allow: 1 to 255 printable bytes without spaces, at most 64.
  for (const std::string& bad : {std::string(""), std::string(256, 'a'), std::string("app @h"), std::string("a\tb"),
                                 std::string("app@h\xc3\xa9")})  // no NUL: argv cannot carry one
    CHECK(error_of(with({"--allow", bad})).find("--allow") != std::string::npos);
  many.clear();
  for (int i = 0; i < 65; ++i) {
    many.push_back("--allow");
    many.push_back("n" + std::to_string(i) + "@*");
  }
  CHECK(error_of(with(many)).find("at most 64") != std::string::npos);
}

namespace {
// A config file next to a cookie, in the cookie's temporary directory; removed at scope exit.
struct TempConfig {
  std::string path;
  TempConfig(const TempCookie& c, const std::string& text) : path(c.dir + "/agent.conf") {
    std::ofstream(path) << text;
  }
  ~TempConfig() { unlink(path.c_str()); }
};
}  // namespace

TEST_CASE("--config reads key = value lines with the long option names, repeatable keys repeating") {
  TempCookie c("secret", 0400);
  const std::string text =
      "# the agent of host 11\n"
      "node = app@198.51.100.11\n"
      "node = b@198.51.100.11\n"
      "\n"
      "exempt = 198.51.100.1   # the controller\n"
      "exempt = 2001:db8::/32\n"
      "max-fault = 90s\n"
      "node-start = b@198.51.100.11=/opt/b/bin/b daemon\n"
      "log-level = debug\n";
  TempConfig conf(c, text + "cookie-file = " + c.path + "\n");
  auto p = parse({"--config", conf.path});
  REQUIRE(p.options);
  CHECK(p.options->nodes == std::vector<std::string>{"app@198.51.100.11", "b@198.51.100.11"});
  CHECK(p.options->name == "ticksplit@198.51.100.11");
  CHECK(p.options->cookie == "secret");
  CHECK(p.options->exempt.size() == 2);
  CHECK(p.options->max_fault_ms == 90000);
  CHECK(p.options->node_start.at("b@198.51.100.11") == "/opt/b/bin/b daemon");  // the first '=' splits
  CHECK(p.options->log_level == "debug");
  CHECK(p.options->state_dir == "/run/ticksplit");  // not in the file: the default
}

TEST_CASE("the command line overrides a single-valued key and adds to a repeatable one") {
  TempCookie c("secret", 0400);
  TempConfig conf(c, "node = app@198.51.100.11\ncookie-file = " + c.path +
                         "\nmax-fault = 90s\nexempt = 198.51.100.1\nstate-dir = /var/lib/x\n");
  auto p = parse({"--max-fault", "2m", "--exempt", "198.51.100.2", "--config", conf.path, "--node", "b@h"});
  REQUIRE(p.options);
  CHECK(p.options->max_fault_ms == 120000);
  CHECK(p.options->state_dir == "/var/lib/x");
  CHECK(p.options->exempt.size() == 2);
  // The command line's values come first: its first --node names the default agent.
  CHECK(p.options->nodes == std::vector<std::string>{"b@h", "app@198.51.100.11"});
  CHECK(p.options->name == "ticksplit@h");
}

TEST_CASE("a bad config file is a configuration error that names the file") {
  TempCookie c("secret", 0400);
  SUBCASE("unreadable") {
    const auto msg = error_of({"--config", c.dir + "/missing.conf"});
    CHECK(msg.find("--config " + c.dir + "/missing.conf: cannot read") == 0);
  }
  SUBCASE("an unknown key: a misspelt one is never ignored") {
    TempConfig conf(c, "node = a@h\ncookie-file = " + c.path + "\nexmept = 10.0.0.1\n");
    const auto msg = error_of({"--config", conf.path});
    CHECK(msg.find(conf.path) != std::string::npos);
    CHECK(msg.find("exmept") != std::string::npos);
  }
  SUBCASE("a bad value is checked as on the command line") {
    TempConfig conf(c, "node = a@h\ncookie-file = " + c.path + "\nmax-fault = 0s\n");
    CHECK(error_of({"--config", conf.path}).find("--max-fault") != std::string::npos);
  }
  SUBCASE("a line that is not key = value") {
    TempConfig conf(c, "node a@h\n");
    CHECK(error_of({"--config", conf.path}).find(conf.path) != std::string::npos);
  }
  SUBCASE("command-line-only keys") {
    for (const char* key : {"help", "version", "config", "cleanup"}) {
      TempConfig conf(c, std::string(key) + " = 1\n");
      CHECK(error_of({"--config", conf.path}).find("command-line option only") != std::string::npos);
    }
  }
  SUBCASE("a --node-start twice, once in each place") {
    TempConfig conf(c, "node = a@h\ncookie-file = " + c.path + "\nnode-start = a@h=start-a\n");
    CHECK(error_of({"--config", conf.path, "--node-start", "a@h=other"}).find("given twice") != std::string::npos);
  }
}

TEST_CASE("--version also says where this agent finds its guards") {
  const auto text = parse({"--version"}).text;
  CHECK(text.find("\npause guard: /") != std::string::npos);
  CHECK(text.find("\nkill guard: /") != std::string::npos);
}

TEST_CASE("packaging/agent.conf documents every option, and every key in it is one") {
  // Each `key = value` line, commented out or not, made live (the cookie made the test's).
  TempCookie c("secret", 0400);
  std::ifstream in(TICKSPLIT_PACKAGING "/agent.conf");
  REQUIRE(in);
  const std::regex setting(R"(^#?([a-z-]+) = (.*)$)");
  std::set<std::string> keys;
  std::string live, line;
  for (std::smatch m; std::getline(in, line);)
    if (std::regex_match(line, m, setting)) {
      keys.insert(m[1]);
      live += m[1].str() + " = " + (m[1] == "cookie-file" ? c.path : m[2].str()) + "\n";
    }
  // Every long option of --help but those of the command line alone.
  const auto help = parse({"--help"}).text;
  const std::regex option(R"(\n +(?:-\w \[ )?--([a-z-]+))");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it) {
    const auto name = (*it)[1].str();
    if (name == "help" || name == "version" || name == "config" || name == "cleanup") continue;  // command line only
    CHECK_MESSAGE(keys.count(name) == 1, "agent.conf does not document " << name);
  }
  TempConfig conf(c, live);
  CHECK(parse({"--config", conf.path}).options);  // throws on a key that is no option, or a bad value
}

TEST_CASE("--cleanup needs no node and no cookie, and ignores the node options a config file gives") {
  auto p = parse({"--cleanup"});
  REQUIRE(p.options);
  CHECK(p.options->cleanup);
  CHECK(p.options->interfaces.empty());
  CHECK(p.options->name.empty());
  p = parse({"--cleanup", "--node", "app@198.51.100.11", "--cookie-file", "/nonexistent/cookie", "--exempt",
             "198.51.100.1", "--interface", "eth0", "--interface", "eth1", "--state-dir", "/nonexistent"});
  REQUIRE(p.options);
  CHECK(p.options->cleanup);
  CHECK(p.options->interfaces == std::vector<std::string>{"eth0", "eth1"});
  CHECK(p.options->cookie.empty());
  CHECK(p.options->name == "ticksplit@198.51.100.11");  // whose ledger lists the pauses it left
  CHECK(p.options->state_dir == "/nonexistent");
  CHECK_THROWS_AS(parse({"--cleanup", "--interface", "a/b"}), ConfigError);
  CHECK_THROWS_AS(parse({"--cleanup", "--log-level", "loud"}), ConfigError);
}

TEST_CASE("--cleanup --config: the service's file gives the node, the state directory and the interfaces") {
  TempCookie c("secret\n", 0400);
  TempConfig conf(c, "node = app@198.51.100.11\ncookie-file = /nonexistent/cookie\nexempt = 198.51.100.1\n"
                     "interface = eth0\nstate-dir = /var/lib/ticksplit\nallow = ctl@*\n");
  auto p = parse({"--cleanup", "--config", conf.path});
  REQUIRE(p.options);
  CHECK(p.options->cleanup);
  CHECK(p.options->interfaces == std::vector<std::string>{"eth0"});
  CHECK(p.options->name == "ticksplit@198.51.100.11");
  CHECK(p.options->state_dir == "/var/lib/ticksplit");
}
