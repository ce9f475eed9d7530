// The run's history: JSON Lines, one object per line with `time_us` and `kind`, in time order,
// flushed line by line so a crash leaves a valid prefix. Events reach the controller a little
// after they happened (and a fault's start is announced before it begins), so lines wait in a
// short reorder buffer and are written once nothing earlier can still arrive.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace ticksplit::ctl {

class History {
 public:
  // Throws ConfigError if the file cannot be created.
  explicit History(const std::string& path);
  // `line` must hold an integer time_us.
  void add(nlohmann::json line);
  // Writes, in time order, every buffered line older than time_us.
  void flush_before(std::int64_t time_us);
  void flush_all();
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  struct Close {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, Close> file_;
  std::multimap<std::int64_t, std::string> pending_;
};

}  // namespace ticksplit::ctl
