// The HTTP(S) source: strategies POST orders and get the decision in the response. The
// connection stays open until the pipeline acks (200), dead-letters (422/403) or nacks (503).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/registry.h"
#include "sidecar/source.h"
#include "sidecar/sources/http/http_auth.h"

namespace wojak::sidecar::http {

struct HttpSourceOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;  // 0 = any free port (logged as http_source_listening)
  int io_threads = 1;
  int max_connections = 1024;
  size_t max_body_bytes = 256 * 1024;
  size_t max_header_bytes = 8 * 1024;
  int max_batch = 100;           // orders in one JSON array
  int max_pipelined = 32;        // requests read ahead on one connection before their responses
  size_t queue_capacity = 8192;  // orders received and not yet taken by the pipeline
  std::chrono::milliseconds idle_timeout{60000};
  bool tls = false;
  std::string tls_cert_file;            // PEM chain
  std::string tls_key_file;             // PEM private key
  std::string tls_min_version = "1.2";  // "1.2" or "1.3"
  HttpAuthOptions auth;
};

// Reads `sources.http:`; violations are reported through `section`.
HttpSourceOptions ReadHttpSourceOptions(ConfigSection& section);

class HttpSource final : public Source {
 public:
  // Registered as "http".
  static StatusOr<std::unique_ptr<Source>> Create(ConfigSection& section,
                                                  const SourceContext& context);

  HttpSource(HttpSourceOptions options, std::shared_ptr<const std::atomic<bool>> engine_available,
             const Clock& clock = RealClock::Instance());
  ~HttpSource() override;

  Status Start() override;
  StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                      std::chrono::milliseconds max_wait) override;
  Status Ack(const Message& message, const Decision& decision) override;
  Status Nack(const Message& message, std::chrono::milliseconds delay) override;
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override;
  void StopIntake() override;
  void Stop() override;

  // The bound port (useful with listen port 0); 0 before Start().
  uint16_t port() const;

  class Server;

 private:
  std::unique_ptr<Server> server_;
};

}  // namespace wojak::sidecar::http
