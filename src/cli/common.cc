// Configuration loading and stop signals for the subcommands.
#include "cli/common.h"

#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace wojak::cli {
namespace {
std::atomic<bool> g_stop{false};

void OnStopSignal(int) {
  // A second signal means the operator does not want to wait for the drain.
  if (g_stop.exchange(true)) _exit(130);
}
}  // namespace

StatusOr<std::unique_ptr<ConfigDocument>> LoadConfig(const std::optional<std::string>& path) {
  if (!path) return ConfigDocument::Empty();
  return ConfigDocument::Load(*path);
}

void InstallStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

const std::atomic<bool>& StopRequested() { return g_stop; }

}  // namespace wojak::cli
