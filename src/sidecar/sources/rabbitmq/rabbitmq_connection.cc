// librabbitmq-c connection setup (TCP/TLS, login with a connection name), AMQP tables and the
// translation of library and broker errors into Status.
#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>

#include "common/log.h"

namespace wojak::sidecar::rabbitmq {
namespace {

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

constexpr int kFrameMax = 131072;

}  // namespace

RabbitConnectionOptions ReadRabbitConnectionOptions(ConfigSection& section) {
  RabbitConnectionOptions defaults;
  RabbitConnectionOptions options;
  options.host = section.String("host", defaults.host, "broker host name or address");
  options.port = static_cast<uint16_t>(section.Int(
      "port", defaults.port, "broker AMQP port (5671 is customary with TLS)", 1, 65535));
  options.vhost = section.String("vhost", defaults.vhost, "virtual host");
  options.username = section.String("username", defaults.username, "user name");
  options.external_auth =
      section.Enum("sasl_mechanism", "plain", {"plain", "external"},
                   "plain: user name and password; external: the TLS client certificate "
                   "(broker plugin rabbitmq_auth_mechanism_ssl), no password") == "external";
  std::optional<std::string> password = section.Secret(
      "password",
      "the user's password (environment variable or password_file; required with plain)");
  if (password) {
    RegisterSecret(*password);
    options.password = std::move(*password);
  } else if (!options.external_auth) {
    section.Error("password", "missing: set the environment variable or password_file");
  }
  options.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(section.Duration(
      "heartbeat", defaults.heartbeat,
      "AMQP heartbeat; a broker silent for twice this is presumed gone (0 = off, whole seconds)"));
  options.connect_timeout = section.Duration("connect_timeout", defaults.connect_timeout,
                                             "TCP connect, TLS and login time limit");
  options.rpc_timeout =
      section.Duration("rpc_timeout", defaults.rpc_timeout,
                       "longest wait for the broker to answer a declare, qos or consume");
  if (options.connect_timeout.count() <= 0) section.Error("connect_timeout", "must be positive");
  if (options.rpc_timeout.count() <= 0) section.Error("rpc_timeout", "must be positive");

  ConfigSection tls = section.Section("tls", "TLS to the broker (amqps)");
  options.tls.enabled = tls.Bool("enabled", false, "connect with TLS");
  options.tls.ca_file =
      tls.String("ca_file", "", "PEM CA bundle that signs the broker's certificate");
  options.tls.cert_file =
      tls.String("cert_file", "", "PEM client certificate for mutual TLS (empty = none)");
  options.tls.key_file = tls.String("key_file", "", "PEM client private key, with cert_file");
  options.tls.verify_peer =
      tls.Bool("verify_peer", true, "check the broker's certificate against ca_file");
  options.tls.verify_hostname =
      tls.Bool("verify_hostname", true, "check that the certificate names `host`");
  if (options.tls.cert_file.empty() != options.tls.key_file.empty()) {
    tls.Error("key_file", "cert_file and key_file go together");
  }
  if (options.tls.enabled && options.tls.verify_peer && options.tls.ca_file.empty()) {
    tls.Error("ca_file", "required when verify_peer is on");
  }
  if (options.external_auth && (!options.tls.enabled || options.tls.cert_file.empty())) {
    section.Error("sasl_mechanism", "external needs tls.enabled and a tls.cert_file");
  }
  return options;
}

amqp_bytes_t RabbitTable::Keep(std::string_view text) {
  storage_.emplace_back(text);
  return StringBytes(storage_.back());
}

RabbitTable& RabbitTable::String(std::string_view key, std::string_view value) {
  amqp_table_entry_t entry{};
  entry.key = Keep(key);
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = Keep(value);
  entries_.push_back(entry);
  return *this;
}

RabbitTable& RabbitTable::Int(std::string_view key, int64_t value) {
  amqp_table_entry_t entry{};
  entry.key = Keep(key);
  entry.value.kind = AMQP_FIELD_KIND_I64;
  entry.value.value.i64 = value;
  entries_.push_back(entry);
  return *this;
}

RabbitTable& RabbitTable::Inherit(const amqp_table_t& table, const std::vector<std::string>& skip) {
  for (int i = 0; i < table.num_entries; ++i) {
    const std::string key = BytesToString(table.entries[i].key);
    if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    entries_.push_back(table.entries[i]);
  }
  return *this;
}

amqp_table_t RabbitTable::table() {
  amqp_table_t table{};
  table.num_entries = static_cast<int>(entries_.size());
  table.entries = entries_.empty() ? nullptr : entries_.data();
  return table;
}

std::string BytesToString(amqp_bytes_t bytes) {
  if (bytes.len == 0 || bytes.bytes == nullptr) return {};
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_bytes_t StringBytes(std::string_view text) {
  amqp_bytes_t bytes;
  bytes.len = text.size();
  bytes.bytes = const_cast<char*>(text.data());
  return bytes;
}

std::string TableString(const amqp_table_t& table, std::string_view key) {
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    if (BytesToString(entry.key) != key) continue;
    if (entry.value.kind == AMQP_FIELD_KIND_UTF8 || entry.value.kind == AMQP_FIELD_KIND_BYTES) {
      return BytesToString(entry.value.value.bytes);
    }
    return {};
  }
  return {};
}

int64_t TableInt(const amqp_table_t& table, std::string_view key, int64_t fallback) {
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    if (BytesToString(entry.key) != key) continue;
    const amqp_field_value_t& v = entry.value;
    switch (v.kind) {
      case AMQP_FIELD_KIND_I8:
        return v.value.i8;
      case AMQP_FIELD_KIND_U8:
        return v.value.u8;
      case AMQP_FIELD_KIND_I16:
        return v.value.i16;
      case AMQP_FIELD_KIND_U16:
        return v.value.u16;
      case AMQP_FIELD_KIND_I32:
        return v.value.i32;
      case AMQP_FIELD_KIND_U32:
        return v.value.u32;
      case AMQP_FIELD_KIND_I64:
        return v.value.i64;
      case AMQP_FIELD_KIND_U64:
        return static_cast<int64_t>(v.value.u64);
      default:
        return fallback;
    }
  }
  return fallback;
}

StatusOr<std::unique_ptr<RabbitConnection>> RabbitConnection::Open(
    const RabbitConnectionOptions& options, std::string_view connection_name) {
  amqp_connection_state_t state = amqp_new_connection();
  if (state == nullptr) return Internal("amqp_new_connection failed");
  std::unique_ptr<RabbitConnection> connection(new RabbitConnection(state));
  connection->MarkBroken();  // until the login succeeds, close without the handshake

  const std::string where = options.host + ":" + std::to_string(options.port);
  amqp_socket_t* socket = nullptr;
  if (options.tls.enabled) {
    socket = amqp_ssl_socket_new(state);
    if (socket == nullptr) return Internal("creating the TLS socket failed");
    amqp_ssl_socket_set_verify_peer(socket, options.tls.verify_peer ? 1 : 0);
    amqp_ssl_socket_set_verify_hostname(socket, options.tls.verify_hostname ? 1 : 0);
    if (!options.tls.ca_file.empty() &&
        amqp_ssl_socket_set_cacert(socket, options.tls.ca_file.c_str()) != AMQP_STATUS_OK) {
      return InvalidArgument("cannot load TLS CA file " + options.tls.ca_file);
    }
    if (!options.tls.cert_file.empty() &&
        amqp_ssl_socket_set_key(socket, options.tls.cert_file.c_str(),
                                options.tls.key_file.c_str()) != AMQP_STATUS_OK) {
      return InvalidArgument("cannot load TLS client certificate " + options.tls.cert_file +
                             " / key " + options.tls.key_file);
    }
  } else {
    socket = amqp_tcp_socket_new(state);
    if (socket == nullptr) return Internal("creating the TCP socket failed");
  }
  timeval connect_timeout = ToTimeval(options.connect_timeout);
  timeval rpc_timeout = ToTimeval(options.rpc_timeout);
  amqp_set_handshake_timeout(state, &connect_timeout);
  amqp_set_rpc_timeout(state, &rpc_timeout);
  const int opened =
      amqp_socket_open_noblock(socket, options.host.c_str(), options.port, &connect_timeout);
  if (opened != AMQP_STATUS_OK) {
    return Unavailable("connecting to " + where + ": " + amqp_error_string2(opened));
  }

  std::string name(connection_name);
  amqp_table_entry_t property{};
  property.key = amqp_cstring_bytes("connection_name");
  property.value.kind = AMQP_FIELD_KIND_UTF8;
  property.value.value.bytes = StringBytes(name);
  amqp_table_t properties{1, &property};
  const int heartbeat = static_cast<int>(options.heartbeat.count());
  amqp_rpc_reply_t login =
      options.external_auth
          ? amqp_login_with_properties(state, options.vhost.c_str(), 0, kFrameMax, heartbeat,
                                       &properties, AMQP_SASL_METHOD_EXTERNAL,
                                       options.username.c_str())
          : amqp_login_with_properties(state, options.vhost.c_str(), 0, kFrameMax, heartbeat,
                                       &properties, AMQP_SASL_METHOD_PLAIN,
                                       options.username.c_str(), options.password.c_str());
  Status status = connection->Reply(login, "logging in to " + where);
  if (!status.ok()) return status;
  connection->broken_ = false;
  return connection;
}

RabbitConnection::~RabbitConnection() {
  if (!broken_) {
    for (amqp_channel_t channel : channels_) {
      amqp_channel_close(state_, channel, AMQP_REPLY_SUCCESS);
      if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) break;
    }
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(state_);
}

int RabbitConnection::fd() const {
  amqp_socket_t* socket = amqp_get_socket(state_);
  return socket == nullptr ? -1 : amqp_socket_get_sockfd(socket);
}

Status RabbitConnection::OpenChannel(amqp_channel_t channel) {
  amqp_channel_open(state_, channel);
  WOJAK_RETURN_IF_ERROR(LastReply("opening channel " + std::to_string(channel)));
  channels_.push_back(channel);
  return OkStatus();
}

Status RabbitConnection::LastReply(std::string_view what) {
  return Reply(amqp_get_rpc_reply(state_), what);
}

Status RabbitConnection::Reply(const amqp_rpc_reply_t& reply, std::string_view what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return OkStatus();
    case AMQP_RESPONSE_NONE:
      MarkBroken();
      return Internal(std::string(what) + ": no reply (missing RPC reply type)");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      MarkBroken();
      return Unavailable(std::string(what) + ": " + amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  MarkBroken();
  uint16_t code = 0;
  std::string text;
  std::string scope = "broker";
  if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
    code = close->reply_code;
    text = BytesToString(close->reply_text);
    scope = "broker closed the connection";
  } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
    code = close->reply_code;
    text = BytesToString(close->reply_text);
    scope = "broker closed the channel";
  }
  const std::string message =
      std::string(what) + ": " + scope + " (" + std::to_string(code) + " " + text + ")";
  // 403 ACCESS_REFUSED, 404 NOT_FOUND, 406 PRECONDITION_FAILED (queue declared with other
  // arguments) are configuration problems, not outages.
  switch (code) {
    case 403:
      return PermissionDenied(message);
    case 404:
      return NotFound(message);
    case 406:
      return FailedPrecondition(message);
    default:
      return Unavailable(message);
  }
}

Status RabbitConnection::Library(int status, std::string_view what) {
  if (status == AMQP_STATUS_OK) return OkStatus();
  MarkBroken();
  return Unavailable(std::string(what) + ": " + amqp_error_string2(status));
}

bool RabbitConnection::HasBufferedInput() const {
  return amqp_data_in_buffer(state_) || amqp_frames_enqueued(state_);
}

}  // namespace wojak::sidecar::rabbitmq
