#include "controller/history/history.hpp"

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace ticksplit::ctl {

History::History(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "w")) {
  if (!file_) throw ConfigError("cannot create the history file " + path + ": " + std::strerror(errno));
}

void History::add(nlohmann::json line) {
  const auto t = line.at("time_us").get<std::int64_t>();
  // Text from the nodes (log lines, reasons) may not be UTF-8: replaced, never a throw mid-run.
  pending_.emplace(t, line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void History::flush_before(std::int64_t time_us) {
  auto end = pending_.lower_bound(time_us);
  for (auto it = pending_.begin(); it != end; ++it) {
    std::fputs(it->second.c_str(), file_.get());
    std::fputc('\n', file_.get());
    std::fflush(file_.get());
  }
  pending_.erase(pending_.begin(), end);
}

void History::flush_all() { flush_before(INT64_MAX); }

}  // namespace ticksplit::ctl
