// A NATS connection with its JetStream context (servers, TLS, credentials, reconnects), and
// publishing with JetStream's confirmation. The NATS source uses it for dead letters and
// decision replies; the outbox relay can use NatsPublisher as a sink: PublishAndWait returns OK
// only once the stream stored every message (its PubAck), and a message id (e.g. the outbox
// sequence) makes a republish after a crash a no-op inside the stream's duplicate window.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace wojak::sidecar::nats {

struct NatsConnectionOptions {
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string name = "wojak-sidecar";  // shown in the server's connection list
  std::string tls_ca_file;             // PEM CA bundle; setting any tls_* key turns TLS on
  std::string tls_cert_file;           // PEM client certificate (mutual TLS)
  std::string tls_key_file;            // PEM client private key
  std::string tls_expected_hostname;   // certificate name to expect when it differs from the URL
  bool tls = false;
  std::string user;
  std::optional<std::string> password;
  std::optional<std::string> token;
  std::string credentials_file;  // .creds (JWT + NKey seed)
  std::string nkey_public;       // the user's public NKey ...
  std::string nkey_seed_file;    // ... and the file holding its seed (signs the server's nonce)
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_wait{250};
  int max_reconnect = -1;  // -1: forever
  // Longest a JetStream API call or a publish waits for the server's answer.
  std::chrono::milliseconds request_timeout{5000};
};

// Reads the connection keys of `section` (servers, name, tls.*, auth.*, ...); secrets are
// registered for redaction.
NatsConnectionOptions ReadNatsConnectionOptions(ConfigSection& section);

// "NATS_TIMEOUT: ..." with the library's last error detail.
Status NatsError(natsStatus status, std::string_view what, jsErrCode js_error = jsErrCode(0));

class NatsConnection {
 public:
  static StatusOr<std::shared_ptr<NatsConnection>> Connect(const NatsConnectionOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* connection() const { return connection_; }
  jsCtx* jetstream() const { return jetstream_; }
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }

 private:
  NatsConnection() = default;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
  std::chrono::milliseconds request_timeout_{5000};
};

struct NatsRecord {
  std::string subject;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;
  // Nats-Msg-Id: the stream drops a second message with the same id inside its duplicate
  // window, so a retried publish is stored once. Empty: none.
  std::string message_id;
};

// Thread-safe (libnats connections are); publishes one record at a time with its PubAck.
class NatsPublisher {
 public:
  explicit NatsPublisher(std::shared_ptr<NatsConnection> connection);
  static StatusOr<std::unique_ptr<NatsPublisher>> Connect(const NatsConnectionOptions& options);

  // Publishes every record in order, each confirmed by the stream that captures its subject
  // (UNAVAILABLE when no stream does). OK only when all are stored.
  Status PublishAndWait(std::span<const NatsRecord> records, std::chrono::milliseconds timeout);
  // One record; `duplicate` (optional) tells whether the stream had it already.
  Status Publish(const NatsRecord& record, std::chrono::milliseconds timeout,
                 bool* duplicate = nullptr);

 private:
  std::shared_ptr<NatsConnection> connection_;
};

}  // namespace wojak::sidecar::nats
