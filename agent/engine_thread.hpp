// The fault engine on a thread of its own, so that no amount of map work holds the agent's
// loop, which also answers its node's ticks and every other peer. Every map operation is a
// bpf() syscall (about 1.5 µs) and a request may cut 16,384 addresses; a status reads every
// entry of every fault, a heal syncs and reads them all. On the loop, one such request held
// it for ~65 ms and heal_all over four of them for about a quarter of a second, growing with
// the limits (issue 11).
//
// The loop posts work and goes on. The thread runs the work in the order posted, with the
// engine's own deadlines (starts, heals, recovery polls) in between, and keeps the ledger;
// each result comes back through event_fd() with the events its work produced, in the order
// posted. The engine, its backend and the ledger are this thread's alone while it runs.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/fault/engine.hpp"
#include "agent/ledger.hpp"
#include "agent/throttle.hpp"
#include "common/ei/term.hpp"
#include "common/fd.hpp"

namespace ticksplit::agent {

class EngineThread {
 public:
  // Runs on the engine's thread; what it returns is handed to its Done.
  using Work = std::function<ei::Term(fault::Engine&, fault::Output&)>;
  // Runs on the loop, in deliver().
  using Done = std::function<void(ei::Term)>;
  using Record = std::function<void(fault::Output)>;

  // Starts the thread. `ledger` is rewritten whenever the engine's generation moves.
  // Throws ConfigError if no eventfd can be made.
  EngineThread(std::unique_ptr<fault::Engine> engine, Ledger& ledger);
  ~EngineThread();  // stop() with nothing more to run, if not stopped yet
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  // Never waits for the engine: the work is queued. A work that throws answers
  // {error, {internal, What}}.
  void post(Work work, Done done = {});
  // Readable when results are waiting for deliver().
  [[nodiscard]] int event_fd() const noexcept { return event_.get(); }
  // On the loop: for every finished work, in the order posted (and every tick of the engine
  // that produced events or problems), records its output, then runs its Done.
  void deliver(const Record& record);
  // Lets the thread finish what was posted, then run `last`, and ends it; their results wait
  // for the next deliver(). Blocks (shutdown only). The engine is destroyed with the thread.
  void stop(Work last = {}, Done done = {});

 private:
  struct Job {
    Work work;
    Done done;
  };
  struct Finished {
    fault::Output output;
    ei::Term reply;
    Done done;
  };
  void run();
  void finish(Finished f);
  void keep_ledger();

  std::unique_ptr<fault::Engine> engine_;
  Ledger& ledger_;
  std::optional<std::uint64_t> ledger_generation_;  // of the engine, when the ledger was last written
  std::optional<clock::Monotonic::time_point> ledger_failed_at_;  // the last failed write
  Throttle ledger_warnings_{std::chrono::seconds(10)};
  Fd event_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;           // guarded by mu_
  std::deque<Finished> finished_;  // guarded by mu_
  std::optional<Job> last_;        // guarded by mu_; set with stopping_
  bool stopping_ = false;          // guarded by mu_
  std::thread thread_;             // last: starts once everything above exists
};

}  // namespace ticksplit::agent
