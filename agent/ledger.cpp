#include "agent/ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/fd.hpp"

namespace ticksplit::agent {

namespace {
// A ledger lists at most the faults an agent can hold; a file much larger is not ours.
constexpr std::size_t kMaxLedgerBytes = 16u << 20;
}  // namespace

Status Ledger::lock() {
  if (path_.empty()) return success();
  const auto file = path_ + ".lock";
  Fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return system_error("opening " + file, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return system_error(errno == EWOULDBLOCK ? "another agent of this name holds " + file : "locking " + file, errno);
  lock_ = std::move(fd);
  return success();
}

Result<std::vector<fault::Planned>> Ledger::read() const {
  std::vector<fault::Planned> out;
  if (path_.empty()) return out;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return out;
    return system_error("reading the ledger " + path_, errno);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxLedgerBytes) return protocol_error("ledger " + path_ + " is too large");
  try {
    const auto doc = nlohmann::json::parse(text.str());  // named: a range-for over a temporary's member dangles
    for (const auto& j : doc.at("faults")) {
      fault::Planned p;
      p.id = j.at("id").get<std::string>();
      p.owner = j.at("owner").get<std::string>();
      p.peers = j.at("peers").get<std::vector<std::string>>();
      p.start_us = j.at("start_us").get<std::int64_t>();
      p.end_us = j.at("end_us").get<std::int64_t>();
      if (const auto it = j.find("paused"); it != j.end())
        p.paused = fault::PausedProcess{it->at("node").get<std::string>(), it->at("pid").get<std::int64_t>(),
                                        it->at("start_ticks").get<std::uint64_t>(),
                                        it->at("guard_pid").get<std::int64_t>(),
                                        it->at("guard_start_ticks").get<std::uint64_t>()};
      out.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    return protocol_error("ledger " + path_ + " is corrupt: " + e.what());
  }
  return out;
}

Status Ledger::write(const std::vector<fault::Planned>& now) {
  if (path_.empty() || (synced_ && now == written_)) return success();
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& p : now) {
    nlohmann::json f{{"id", p.id}, {"owner", p.owner}, {"peers", p.peers}, {"start_us", p.start_us}, {"end_us", p.end_us}};
    if (p.paused)
      f["paused"] = {{"node", p.paused->node},
                     {"pid", p.paused->pid},
                     {"start_ticks", p.paused->start_ticks},
                     {"guard_pid", p.paused->guard_pid},
                     {"guard_start_ticks", p.paused->guard_start_ticks}};
    faults.push_back(std::move(f));
  }
  // Ids are any binary a caller sent; replacing invalid UTF-8 keeps the file JSON.
  const auto text = nlohmann::json{{"faults", faults}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const auto tmp = path_ + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return system_error("writing the ledger " + tmp, errno);
  for (std::size_t done = 0; done < text.size();) {
    const auto n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error("writing the ledger " + tmp, errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return system_error("fsync of the ledger " + tmp, errno);
  fd.reset();
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) return system_error("renaming the ledger to " + path_, errno);
  written_ = now;
  synced_ = true;
  return success();
}

void Ledger::remove() {
  if (!path_.empty()) {
    std::remove(path_.c_str());
    std::remove((path_ + ".lock").c_str());  // still ours (locked) while we remove it
  }
  written_.clear();
  synced_ = false;
}

}  // namespace ticksplit::agent
