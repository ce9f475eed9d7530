#include "agent/engine_thread.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <exception>
#include <system_error>
#include <utility>

namespace ticksplit::agent {

namespace {
// A ledger that could not be written is tried again this often (and after every change).
constexpr auto kLedgerRetry = std::chrono::seconds(1);

// Every signal blocked while it lives, so that a thread created meanwhile takes none: SIGTERM
// and SIGINT are the loop's, through its signalfd, and a thread that could take them before
// the loop blocks them would die of SIGTERM's default action, with the agent and its cleanup.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_{};
};
}  // namespace

EngineThread::EngineThread(std::unique_ptr<fault::Engine> engine, Ledger& ledger)
    : engine_(std::move(engine)), ledger_(ledger), event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_.valid()) throw ConfigError(system_error("eventfd", errno).message);
  const SignalsBlocked blocked;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {  // main reports a ConfigError and exits cleanly
    throw ConfigError(std::string("cannot start the engine's thread: ") + e.what());
  }
}

EngineThread::~EngineThread() {
  if (thread_.joinable()) stop();
}

void EngineThread::post(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(work), std::move(done)});
  }
  wake_.notify_one();
}

void EngineThread::stop(Work last, Done done) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (last) last_ = Job{std::move(last), std::move(done)};
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  engine_.reset();  // before the backend it holds a reference to
}

void EngineThread::deliver(const Record& record) {
  std::uint64_t count = 0;
  [[maybe_unused]] auto r = ::read(event_.get(), &count, sizeof count);
  std::deque<Finished> ready;
  {
    std::lock_guard lock(mu_);
    ready.swap(finished_);
  }
  for (auto& f : ready) {
    if (!f.output.events.empty() || !f.output.problems.empty()) record(std::move(f.output));
    if (f.done) f.done(std::move(f.reply));
  }
}

void EngineThread::finish(Finished f) {
  {
    std::lock_guard lock(mu_);
    finished_.push_back(std::move(f));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto w = ::write(event_.get(), &one, sizeof one);
}

void EngineThread::keep_ledger() {
  if (ledger_generation_ && *ledger_generation_ == engine_->generation()) return;
  const auto now = clock::Monotonic::now();
  if (ledger_failed_at_ && now - *ledger_failed_at_ < kLedgerRetry) return;  // not at every poll
  if (auto s = ledger_.write(engine_->planned()); !s) {
    ledger_failed_at_ = now;
    if (auto held = ledger_warnings_.allow(now))
      spdlog::warn("{} ({} similar held back); trying again", s.error().message, *held);
    return;
  }
  ledger_failed_at_.reset();
  ledger_generation_ = engine_->generation();
}

void EngineThread::run() {
  const auto run_job = [this](Job& job) {
    Finished f;
    try {
      f.reply = job.work(*engine_, f.output);
      // The ledger before the reply: a fault its caller has heard of is one a killed agent's
      // successor can report.
      keep_ledger();
    } catch (const std::exception& e) {
      spdlog::error("fault engine: {}", e.what());
      f.reply = ei::error_tuple(ei::tuple({ei::atom("internal"), ei::binary(e.what())}));
    }
    f.done = std::move(job.done);
    finish(std::move(f));
  };
  for (;;) {
    // The engine's next deadline, or the ledger's retry: the thread wakes for whichever
    // comes first, or for work. steady_clock is CLOCK_MONOTONIC, the windows' clock.
    std::optional<clock::Monotonic::time_point> due;
    if (auto ns = engine_->next_due_ns()) due = clock::Monotonic::time_point(std::chrono::nanoseconds(*ns));
    if (!ledger_generation_ || *ledger_generation_ != engine_->generation()) {
      const auto retry = clock::Monotonic::now() + kLedgerRetry;
      due = due ? std::min(*due, retry) : retry;
    }
    std::deque<Job> jobs;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      const auto ready = [this] { return !queue_.empty() || stopping_; };
      if (due)
        wake_.wait_until(lock, *due, ready);
      else
        wake_.wait(lock, ready);
      jobs.swap(queue_);
      stopping = stopping_;
    }
    for (auto& job : jobs) run_job(job);
    // What fell due meanwhile (the work above did it too, if it ticked first). Nothing may
    // escape the thread: an exception here would end the agent without its cleanup.
    fault::Output due_events;
    try {
      engine_->tick(due_events);
      keep_ledger();
    } catch (const std::exception& e) {
      spdlog::error("fault engine: {}", e.what());
    }
    if (!due_events.events.empty() || !due_events.problems.empty()) finish({std::move(due_events), {}, {}});
    if (!stopping) continue;
    std::optional<Job> last;
    {
      std::lock_guard lock(mu_);
      if (!queue_.empty()) continue;  // posted while stopping: done before the last
      last = std::exchange(last_, std::nullopt);
    }
    if (last) run_job(*last);
    return;
  }
}

}  // namespace ticksplit::agent
