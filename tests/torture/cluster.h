// The processes under torture: one engine and one HTTP sidecar on loopback, in a fresh directory,
// each startable, killable (SIGKILL) and restartable, with the configuration they share.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "support/process.h"

namespace wojak::torture {

struct ClusterOptions {
  std::string wojak_binary;  // the wojak executable under test
  std::string source_dir;    // repository root (scripts/gen-instruments)
  std::string work_dir;      // empty: a fresh directory under $TMPDIR
  uint64_t seed = 1;         // the sandbox executor's fill/fail seed
  // Longest wait for a (re)started process to say it is ready.
  std::chrono::milliseconds ready_timeout{60000};
};

class Cluster {
 public:
  // Generates instruments, the HMAC secret and the configuration; starts nothing.
  static StatusOr<std::unique_ptr<Cluster>> Create(const ClusterOptions& options);
  ~Cluster();

  Status StartEngine();   // returns once the engine logs engine_ready
  Status StartSidecar();  // returns once the sidecar logs http_source_listening
  void KillEngine();      // SIGKILL and reap
  void KillSidecar();
  // SIGTERM both (sidecar first), waiting for each to exit; SIGKILL what does not.
  Status Stop();

  const std::string& work_dir() const { return work_dir_; }
  std::string data_dir() const { return work_dir_ + "/data"; }
  std::string log_dir() const { return work_dir_ + "/logs"; }
  const std::string& instruments_path() const { return instruments_path_; }
  const std::string& freeze_path() const { return freeze_path_; }
  const std::string& wojak_binary() const { return options_.wojak_binary; }
  uint16_t http_port() const { return http_port_; }
  const std::string& key_id() const { return key_id_; }
  const std::string& secret() const { return secret_; }
  const std::string& symbol() const { return symbol_; }
  const std::string& price() const { return price_; }
  // Once the run is over: the directory is left for inspection instead of being deleted.
  void Keep() { keep_ = true; }

 private:
  explicit Cluster(const ClusterOptions& options) : options_(options) {}
  Status StartProcess(testing::ChildProcess& process, const std::vector<std::string>& argv,
                      const std::string& log_name, std::string_view ready_event);

  ClusterOptions options_;
  std::string work_dir_;
  bool owns_work_dir_ = false;
  bool keep_ = false;
  std::string config_path_;
  std::string instruments_path_;
  std::string freeze_path_;
  std::string symbol_;
  std::string price_;
  std::string key_id_ = "torture";
  std::string secret_;
  uint16_t http_port_ = 0;
  testing::ChildProcess engine_;
  testing::ChildProcess sidecar_;
};

}  // namespace wojak::torture
