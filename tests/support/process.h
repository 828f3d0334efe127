// Test support: child processes started and stopped by PID, temporary directories, free ports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wojak::testing {

// The start of an engine config for process tests: the session open at any hour and every
// account limit lifted, so only an order's own content and the exchange rules decide. Tests
// append their own sections (and further `risk:` keys, indented under it).
inline constexpr char kOpenSessionNoLimitsYaml[] = R"(session:
  enforce: false
risk:
  limits:
    max_orders_per_second: none
    max_open_orders: none
    max_daily_orders: none
    max_exposure: none
    max_order_value: none
    max_position_lots_per_instrument: none
    max_position_lots_per_underlying: none
    max_daily_loss: none
)";

// A child process whose stdout+stderr go to a log file. The destructor kills it (SIGKILL) if it
// still runs, so a failing test never leaves processes behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  // Starts argv[0] with the arguments; extra_env entries are "NAME=value".
  static ChildProcess Start(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::vector<std::string>& extra_env = {});

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal);
  // Waits for exit; returns the exit status (128+signal when killed), -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void Kill();
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int FreeLoopbackPort();
// Polls `ready` every 10 ms until it returns true or the timeout passes.
bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);
std::string ReadFile(const std::string& path);
// How many times `text` occurs in the file at `path` (0 when there is no such file), e.g. a log
// event name in a process's log.
size_t CountInFile(const std::string& path, std::string_view text);
void WriteFile(const std::string& path, const std::string& content);
// A fresh instrument master in `dir` (scripts/gen-instruments --from <this month>), so process
// tests trade contracts that have not expired whatever the date; the committed fixture in
// tests/testdata stays fixed for unit tests that pin their clock.
struct InstrumentFixture {
  std::string instruments_path;
  std::string freeze_path;
  std::string future_symbol;  // the nearest unexpired NIFTY future, e.g. NIFTY26DECFUT
  std::string future_price;   // its master last price, e.g. "26065.00" (inside every band)
};
InstrumentFixture GenerateInstruments(const std::string& dir);

// The wojak binary under test ($WOJAK_BINARY) and the repository root ($WOJAK_SOURCE_DIR).
std::string WojakBinary();
std::string SourceDir();

}  // namespace wojak::testing
