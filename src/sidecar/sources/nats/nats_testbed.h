// NATS JetStream on loopback for tests and `wojak bench source`: nats-server processes (single
// node or a 3-node cluster) started on free 127.0.0.1 ports and stopped by PID, plus the small
// clients the tests use to create streams, publish, read subjects back and inspect consumers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "sidecar/sources/nats/nats_connection.h"

namespace wojak::sidecar::nats {

// nats-server -js on 127.0.0.1 (one node, or one node of a cluster). The destructor stops it.
class NatsServerProcess {
 public:
  // A single node storing JetStream data under `directory`; `extra_arguments` go to nats-server
  // (e.g. --tls --tlscert F --tlskey F).
  static StatusOr<std::unique_ptr<NatsServerProcess>> Start(
      const std::string& directory, const std::vector<std::string>& extra_arguments = {});
  // A cluster of `nodes` (>= 3 for R3 streams) under `directory`/node-<i>; ready when every node
  // accepts connections and JetStream has a meta leader.
  static StatusOr<std::vector<std::unique_ptr<NatsServerProcess>>> StartCluster(
      const std::string& directory, int nodes);
  ~NatsServerProcess();
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  const std::string& url() const { return url_; }  // nats://127.0.0.1:PORT
  pid_t pid() const { return pid_; }
  // SIGKILL and reap (a crash); the destructor then does nothing.
  void Kill();

 private:
  NatsServerProcess() = default;
  static StatusOr<std::unique_ptr<NatsServerProcess>> Spawn(const std::vector<std::string>& argv,
                                                            const std::string& log_path, int port);
  pid_t pid_ = -1;
  std::string url_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// Creates (or keeps) a stream capturing `subjects`.
Status CreateStream(const std::string& url, const std::string& name,
                    const std::vector<std::string>& subjects, bool file_storage = true,
                    int replicas = 1);

struct ReceivedMessage {
  std::string subject;
  uint64_t sequence = 0;  // stream sequence
  std::string data;
  std::map<std::string, std::string> headers;
};

// Reads every message of `stream` whose subject matches `subject` from the start (an ephemeral
// consumer), until `count` arrived or `timeout` passed.
StatusOr<std::vector<ReceivedMessage>> ReadStream(const std::string& url, const std::string& stream,
                                                  const std::string& subject, size_t count,
                                                  std::chrono::milliseconds timeout);

struct ConsumerState {
  uint64_t ack_floor = 0;  // stream sequence below which everything is acked (or termed)
  int64_t ack_pending = 0;
  uint64_t pending = 0;  // not yet delivered
  int64_t redelivered = 0;
};
StatusOr<ConsumerState> ReadConsumerState(const std::string& url, const std::string& stream,
                                          const std::string& consumer);

// Pulls `count` messages of `subject` from `stream` with an ephemeral explicit-ack consumer,
// acking each, as fast as libnats allows: the server's bare-consumer rate in messages/s.
StatusOr<double> BareConsumeRate(const std::string& url, const std::string& stream,
                                 const std::string& subject, size_t count,
                                 std::chrono::milliseconds timeout);

}  // namespace wojak::sidecar::nats
