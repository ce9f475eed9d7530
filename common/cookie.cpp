#include "common/cookie.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace ticksplit {

std::string default_cookie_path() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = getpwuid(getuid());
    home = pw != nullptr ? pw->pw_dir : "/";
  }
  return std::string(home) + "/.erlang.cookie";
}

std::string read_cookie_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ConfigError("cannot read cookie file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ConfigError("cookie file " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw ConfigError("cookie file " + path + " must be accessible by its owner only (mode is " + mode +
                      "; run chmod 400 " + path + ")");
  }
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot open cookie file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string cookie = ss.str();
  while (!cookie.empty() && std::isspace(static_cast<unsigned char>(cookie.back()))) cookie.pop_back();
  if (cookie.empty()) throw ConfigError("cookie file " + path + " is empty");
  if (cookie.size() > 255) throw ConfigError("cookie in " + path + " is longer than 255 bytes");
  return cookie;
}

}  // namespace ticksplit
