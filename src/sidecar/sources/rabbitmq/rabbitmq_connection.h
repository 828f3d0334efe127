// One AMQP 0-9-1 connection (librabbitmq-c): TCP or TLS, login, channels, and conversion of the
// library's error replies into Status. Shared by the RabbitMQ source and the confirming publisher.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace wojak::sidecar::rabbitmq {

struct RabbitTlsOptions {
  bool enabled = false;
  std::string ca_file;    // PEM CA bundle the broker's certificate must chain to
  std::string cert_file;  // PEM client certificate (mutual TLS); empty = none
  std::string key_file;   // PEM client key, with cert_file
  bool verify_peer = true;
  bool verify_hostname = true;
};

struct RabbitConnectionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5672;
  std::string vhost = "/";
  std::string username = "guest";
  std::string password;
  // SASL EXTERNAL: the broker authenticates the TLS client certificate
  // (rabbitmq_auth_mechanism_ssl) instead of a password.
  bool external_auth = false;
  std::chrono::seconds heartbeat{30};
  std::chrono::milliseconds connect_timeout{5000};
  // Longest wait for a broker answer to a synchronous method (declare, qos, consume).
  std::chrono::milliseconds rpc_timeout{10000};
  RabbitTlsOptions tls;
};

// Reads host, port, vhost, username, sasl_mechanism, password (a secret), heartbeat,
// connect_timeout and tls.* from `section`; violations are reported through it.
RabbitConnectionOptions ReadRabbitConnectionOptions(ConfigSection& section);

// An amqp_table_t whose keys and string values it owns; pass table() while the builder lives.
class RabbitTable {
 public:
  RabbitTable() = default;
  RabbitTable(const RabbitTable&) = delete;
  RabbitTable& operator=(const RabbitTable&) = delete;

  RabbitTable& String(std::string_view key, std::string_view value);
  RabbitTable& Int(std::string_view key, int64_t value);
  // Copies every entry of `table` except those `skip` names (entries share the caller's memory:
  // keep `table` alive while this builder is used).
  RabbitTable& Inherit(const amqp_table_t& table, const std::vector<std::string>& skip);
  amqp_table_t table();
  bool empty() const { return entries_.empty(); }

 private:
  amqp_bytes_t Keep(std::string_view text);
  std::deque<std::string> storage_;
  std::vector<amqp_table_entry_t> entries_;
};

// Text of a header value when it is a string (longstr or bytes); empty otherwise.
std::string TableString(const amqp_table_t& table, std::string_view key);
// A header's integer value (any integer field kind); `fallback` when absent or not an integer.
int64_t TableInt(const amqp_table_t& table, std::string_view key, int64_t fallback);

std::string BytesToString(amqp_bytes_t bytes);
amqp_bytes_t StringBytes(std::string_view text);

class RabbitConnection {
 public:
  // Connects, logs in (connection_name shows in the management UI) and opens no channel yet.
  static StatusOr<std::unique_ptr<RabbitConnection>> Open(const RabbitConnectionOptions& options,
                                                          std::string_view connection_name);
  ~RabbitConnection();
  RabbitConnection(const RabbitConnection&) = delete;
  RabbitConnection& operator=(const RabbitConnection&) = delete;

  amqp_connection_state_t state() { return state_; }
  int fd() const;
  Status OpenChannel(amqp_channel_t channel);
  // The result of the last synchronous method (amqp_get_rpc_reply) as a Status; marks the
  // connection broken on any error, since a failed method closes its channel or connection.
  Status LastReply(std::string_view what);
  Status Reply(const amqp_rpc_reply_t& reply, std::string_view what);
  // A library status code (AMQP_STATUS_*) as a Status; marks the connection broken.
  Status Library(int status, std::string_view what);
  // Data already read from the socket (or frames queued) that a poll() on fd() would not show.
  bool HasBufferedInput() const;
  // After an error the socket is not closed gracefully (that could block on a dead peer).
  void MarkBroken() { broken_ = true; }
  bool broken() const { return broken_; }

 private:
  explicit RabbitConnection(amqp_connection_state_t state) : state_(state) {}
  amqp_connection_state_t state_;
  std::vector<amqp_channel_t> channels_;
  bool broken_ = false;
};

}  // namespace wojak::sidecar::rabbitmq
