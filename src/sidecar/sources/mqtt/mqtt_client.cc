// MQTT client over a non-blocking TCP socket (optionally OpenSSL TLS): connect and CONNACK,
// subscribe, QoS 1 publish with PUBACK tracking, caller-driven PUBACKs and keep-alive.
#include "sidecar/sources/mqtt/mqtt_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace wojak::sidecar::mqtt {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kWriteTimeout{10000};

milliseconds Remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// poll() one descriptor; true when ready, false on timeout.
bool WaitFor(int fd, short events, milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

std::string OpenSslError(std::string_view what) {
  std::string text(what);
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  return text;
}

StatusOr<int> ConnectTcp(const std::string& host, uint16_t port, milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  const int resolved = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &results);
  if (resolved != 0) {
    return Unavailable("resolving " + where + ": " + gai_strerror(resolved));
  }
  std::string last_error = "no address";
  const Clock::time_point deadline = Clock::now() + timeout;
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      if (WaitFor(fd, POLLOUT, Remaining(deadline))) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        rc = error == 0 ? 0 : -1;
        errno = error;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(results);
      return fd;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(results);
  return Unavailable("connecting to " + where + ": " + last_error);
}

}  // namespace

class MqttClient::Transport {
 public:
  explicit Transport(int fd) : fd_(fd) {}
  virtual ~Transport() { ::close(fd_); }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const { return fd_; }
  // Writes every byte, waiting for the socket up to kWriteTimeout in total.
  virtual Status WriteAll(std::string_view bytes) {
    const Clock::time_point deadline = Clock::now() + kWriteTimeout;
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        bytes.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!WaitFor(fd_, POLLOUT, Remaining(deadline))) {
          return DeadlineExceeded("the broker does not take our bytes");
        }
        continue;
      }
      return Unavailable(std::string("writing to the broker: ") + std::strerror(errno));
    }
    return OkStatus();
  }
  // Appends whatever can be read without blocking; the broker closing is an error.
  virtual Status ReadAvailable(std::string& out) {
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got > 0) {
        out.append(buffer, static_cast<size_t>(got));
        if (static_cast<size_t>(got) < sizeof buffer) return OkStatus();
        continue;
      }
      if (got == 0) return Unavailable("the broker closed the connection");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return OkStatus();
      return Unavailable(std::string("reading from the broker: ") + std::strerror(errno));
    }
  }
  // Bytes already decrypted that poll() on the socket would not announce.
  virtual bool HasBuffered() const { return false; }

 protected:
  int fd_;
};

namespace {

class TlsTransport final : public MqttClient::Transport {
 public:
  TlsTransport(int fd, SSL_CTX* context, SSL* ssl) : Transport(fd), context_(context), ssl_(ssl) {}
  ~TlsTransport() override {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
  }

  static StatusOr<std::unique_ptr<MqttClient::Transport>> Handshake(int fd,
                                                                    const MqttClientOptions& o,
                                                                    Clock::time_point deadline) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) {
      ::close(fd);
      return Internal(OpenSslError("SSL_CTX_new"));
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL* ssl = nullptr;
    auto fail = [&](Status status) -> StatusOr<std::unique_ptr<MqttClient::Transport>> {
      if (ssl != nullptr) SSL_free(ssl);
      SSL_CTX_free(context);
      ::close(fd);
      return status;
    };
    const int loaded = o.tls.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(context)
                           : SSL_CTX_load_verify_locations(context, o.tls.ca_file.c_str(), nullptr);
    if (loaded != 1) return fail(InvalidArgument(OpenSslError("loading CA " + o.tls.ca_file)));
    if (!o.tls.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(context, o.tls.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(context, o.tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return fail(InvalidArgument(OpenSslError("loading client certificate " + o.tls.cert_file)));
      }
    }
    SSL_CTX_set_verify(context, o.tls.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    ssl = SSL_new(context);
    if (ssl == nullptr) return fail(Internal(OpenSslError("SSL_new")));
    SSL_set_fd(ssl, fd);
    // An address literal is checked against the certificate's IP entries and sent without SNI
    // (RFC 6066 has no SNI for addresses); a name against its DNS entries.
    in6_addr scratch;
    const bool literal = inet_pton(AF_INET, o.host.c_str(), &scratch) == 1 ||
                         inet_pton(AF_INET6, o.host.c_str(), &scratch) == 1;
    if (!literal) SSL_set_tlsext_host_name(ssl, o.host.c_str());
    if (o.tls.verify_peer && o.tls.verify_hostname) {
      const int checked = literal
                              ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o.host.c_str())
                              : SSL_set1_host(ssl, o.host.c_str());
      if (checked != 1) return fail(Internal(OpenSslError("setting the host to verify")));
    }
    for (;;) {
      const int rc = SSL_connect(ssl);
      if (rc == 1) break;
      const int error = SSL_get_error(ssl, rc);
      short events = 0;
      if (error == SSL_ERROR_WANT_READ) events = POLLIN;
      if (error == SSL_ERROR_WANT_WRITE) events = POLLOUT;
      if (events == 0) return fail(Unavailable(OpenSslError("TLS handshake with " + o.host)));
      if (!WaitFor(fd, events, Remaining(deadline))) {
        return fail(DeadlineExceeded("TLS handshake with " + o.host + " timed out"));
      }
    }
    return std::unique_ptr<MqttClient::Transport>(std::make_unique<TlsTransport>(fd, context, ssl));
  }

  Status WriteAll(std::string_view bytes) override {
    const Clock::time_point deadline = Clock::now() + kWriteTimeout;
    while (!bytes.empty()) {
      size_t written = 0;
      const int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
      if (rc == 1) {
        bytes.remove_prefix(written);
        continue;
      }
      const int error = SSL_get_error(ssl_, rc);
      short events = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        return Unavailable(OpenSslError("TLS write"));
      }
      if (!WaitFor(fd_, events, Remaining(deadline))) {
        return DeadlineExceeded("the broker does not take our bytes");
      }
    }
    return OkStatus();
  }

  Status ReadAvailable(std::string& out) override {
    char buffer[16384];
    for (;;) {
      size_t got = 0;
      const int rc = SSL_read_ex(ssl_, buffer, sizeof buffer, &got);
      if (rc == 1) {
        out.append(buffer, got);
        continue;
      }
      const int error = SSL_get_error(ssl_, rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return OkStatus();
      if (error == SSL_ERROR_ZERO_RETURN) return Unavailable("the broker closed the connection");
      return Unavailable(OpenSslError("TLS read"));
    }
  }

  bool HasBuffered() const override { return SSL_pending(ssl_) > 0; }

 private:
  SSL_CTX* context_;
  SSL* ssl_;
};

}  // namespace

MqttClient::MqttClient(MqttClientOptions options)
    : options_(std::move(options)), keep_alive_(options_.keep_alive) {}

MqttClient::~MqttClient() = default;

int MqttClient::fd() const { return transport_ == nullptr ? -1 : transport_->fd(); }

StatusOr<std::unique_ptr<MqttClient>> MqttClient::Connect(const MqttClientOptions& options) {
  std::unique_ptr<MqttClient> client(new MqttClient(options));
  const Clock::time_point deadline = Clock::now() + options.connect_timeout;
  WOJAK_ASSIGN_OR_RETURN(int fd, ConnectTcp(options.host, options.port, options.connect_timeout));
  if (options.tls.enabled) {
    WOJAK_ASSIGN_OR_RETURN(client->transport_, TlsTransport::Handshake(fd, options, deadline));
  } else {
    client->transport_ = std::make_unique<Transport>(fd);
  }

  ConnectPacket connect;
  connect.version = options.version;
  connect.client_id = options.client_id;
  connect.clean_start = options.clean_start;
  connect.keep_alive_seconds = static_cast<uint16_t>(options.keep_alive.count());
  connect.username = options.username;
  connect.password = options.password;
  if (options.version == MqttVersion::k5) {
    connect.properties.session_expiry_interval = options.session_expiry_seconds;
    connect.properties.receive_maximum = options.receive_maximum;
    connect.properties.maximum_packet_size = static_cast<uint32_t>(options.max_packet_size);
  }
  WOJAK_RETURN_IF_ERROR(client->Send(EncodeConnect(connect)));

  const std::string where = options.host + ":" + std::to_string(options.port);
  for (;;) {
    WOJAK_ASSIGN_OR_RETURN(std::optional<RawPacket> raw,
                           TakePacket(client->in_, client->in_offset_, options.max_packet_size));
    if (raw) {
      WOJAK_ASSIGN_OR_RETURN(ConnackPacket connack, DecodeConnack(*raw, options.version));
      if (connack.reason_code != 0) {
        const std::string why = "broker " + where + " refused the connection: " +
                                ConnackReasonText(connack.reason_code, options.version);
        const uint8_t code = connack.reason_code;
        if (code == 4 || code == 0x86) return Unauthenticated(why);
        if (code == 5 || code == 0x87 || code == 0x8A) return PermissionDenied(why);
        if (code == 2 || code == 0x85 || code == 1 || code == 0x84) return InvalidArgument(why);
        return Unavailable(why);
      }
      client->session_present_ = connack.session_present;
      if (connack.properties.receive_maximum) {
        client->broker_receive_maximum_ = *connack.properties.receive_maximum;
      }
      if (connack.properties.server_keep_alive) {
        client->keep_alive_ = std::chrono::seconds(*connack.properties.server_keep_alive);
      }
      return client;
    }
    const milliseconds left = Remaining(deadline);
    if (left.count() == 0) return DeadlineExceeded("no CONNACK from " + where);
    WOJAK_RETURN_IF_ERROR(client->Fill(left));
  }
}

Status MqttClient::Send(const std::string& bytes) {
  if (broken_ || transport_ == nullptr) return Unavailable("connection to the broker is broken");
  Status status = transport_->WriteAll(bytes);
  if (!status.ok()) {
    broken_ = true;
    return status;
  }
  last_sent_ = Clock::now();
  return OkStatus();
}

Status MqttClient::Fill(milliseconds max_wait) {
  if (broken_) return Unavailable("connection to the broker is broken");
  if (in_offset_ > 0 && in_offset_ * 2 >= in_.size()) {
    in_.erase(0, in_offset_);
    in_offset_ = 0;
  }
  if (!transport_->HasBuffered() && !WaitFor(transport_->fd(), POLLIN, max_wait)) {
    return OkStatus();
  }
  Status status = transport_->ReadAvailable(in_);
  if (!status.ok()) broken_ = true;
  return status;
}

Status MqttClient::Drain(std::vector<MqttEvent>& events) {
  for (;;) {
    StatusOr<std::optional<RawPacket>> taken =
        TakePacket(in_, in_offset_, options_.max_packet_size);
    if (!taken.ok()) {
      broken_ = true;
      return taken.status();
    }
    if (!taken->has_value()) return OkStatus();
    const RawPacket& raw = **taken;
    Status status;
    switch (raw.type()) {
      case PacketType::kPublish: {
        StatusOr<PublishPacket> publish = DecodePublish(raw, options_.version);
        if (!publish.ok()) {
          status = publish.status();
        } else if (publish->qos > 1) {
          // We subscribe at QoS 1, so the broker must downgrade; QoS 2 would need PUBREC.
          status = InvalidArgument("broker sent a QoS 2 PUBLISH to a QoS 1 subscription");
        } else {
          MqttEvent event;
          event.kind = MqttEvent::Kind::kPublish;
          event.publish = std::move(publish).value();
          events.push_back(std::move(event));
        }
        break;
      }
      case PacketType::kPuback: {
        StatusOr<PubackPacket> puback = DecodePuback(raw, options_.version);
        if (!puback.ok()) {
          status = puback.status();
        } else if (outgoing_.erase(puback->packet_id) == 1) {
          MqttEvent event;
          event.kind = MqttEvent::Kind::kPuback;
          event.puback = *puback;
          events.push_back(std::move(event));
          status = SendThrottled();
        }
        break;
      }
      case PacketType::kSuback: {
        StatusOr<SubackPacket> suback = DecodeSuback(raw, options_.version);
        if (!suback.ok()) {
          status = suback.status();
        } else {
          suback_ = std::move(suback).value();
        }
        break;
      }
      case PacketType::kPingresp:
        ping_sent_at_.reset();
        break;
      case PacketType::kDisconnect: {
        StatusOr<DisconnectPacket> disconnect = DecodeDisconnect(raw, options_.version);
        status =
            Unavailable("the broker disconnected us" +
                        (disconnect.ok() ? " (reason " + std::to_string(disconnect->reason_code) +
                                               " " + disconnect->properties.reason_string + ")"
                                         : std::string()));
        break;
      }
      default:
        status = InvalidArgument("unexpected packet type " +
                                 std::to_string(static_cast<int>(raw.type())));
        break;
    }
    if (!status.ok()) {
      broken_ = true;
      return status;
    }
  }
}

Status MqttClient::KeepAlive() {
  if (keep_alive_.count() == 0) return OkStatus();
  const Clock::time_point now = Clock::now();
  if (ping_sent_at_) {
    if (now - *ping_sent_at_ > keep_alive_) {
      broken_ = true;
      return DeadlineExceeded("no PINGRESP within the keep-alive interval");
    }
    return OkStatus();
  }
  if (now - last_sent_ >= keep_alive_ / 2) {
    WOJAK_RETURN_IF_ERROR(Send(EncodePingreq()));
    ping_sent_at_ = now;
  }
  return OkStatus();
}

StatusOr<std::vector<MqttEvent>> MqttClient::Read(milliseconds max_wait) {
  std::vector<MqttEvent> events = std::move(early_events_);
  early_events_.clear();
  WOJAK_RETURN_IF_ERROR(KeepAlive());
  WOJAK_RETURN_IF_ERROR(Drain(events));
  if (!events.empty()) max_wait = milliseconds(0);
  if (keep_alive_.count() > 0) {
    max_wait = std::min(max_wait, std::chrono::duration_cast<milliseconds>(keep_alive_) / 4);
  }
  WOJAK_RETURN_IF_ERROR(Fill(max_wait));
  WOJAK_RETURN_IF_ERROR(Drain(events));
  return events;
}

uint16_t MqttClient::NextPacketId() {
  do {
    last_packet_id_ = static_cast<uint16_t>(last_packet_id_ == 65535 ? 1 : last_packet_id_ + 1);
  } while (outgoing_.count(last_packet_id_) != 0);
  return last_packet_id_;
}

Status MqttClient::Subscribe(const std::vector<std::string>& filters, uint8_t qos,
                             milliseconds timeout) {
  SubscribePacket subscribe;
  subscribe.packet_id = NextPacketId();
  for (const std::string& filter : filters) {
    uint8_t options = qos & 0x03;
    // 5.0 retain handling 1: retained messages only for a subscription that is new.
    if (options_.version == MqttVersion::k5) options |= 0x10;
    subscribe.filters.emplace_back(filter, options);
  }
  suback_.reset();
  WOJAK_RETURN_IF_ERROR(Send(EncodeSubscribe(subscribe, options_.version)));
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    WOJAK_RETURN_IF_ERROR(Drain(early_events_));
    if (suback_ && suback_->packet_id == subscribe.packet_id) break;
    const milliseconds left = Remaining(deadline);
    if (left.count() == 0) return DeadlineExceeded("no SUBACK from the broker");
    WOJAK_RETURN_IF_ERROR(Fill(left));
  }
  for (size_t i = 0; i < suback_->reason_codes.size() && i < filters.size(); ++i) {
    if (suback_->reason_codes[i] >= 0x80) {
      return PermissionDenied("the broker refused the subscription to '" + filters[i] + "' (code " +
                              std::to_string(suback_->reason_codes[i]) + ")");
    }
  }
  return OkStatus();
}

StatusOr<uint16_t> MqttClient::Publish(const MqttOutgoing& message) {
  PublishPacket publish;
  publish.qos = message.qos;
  publish.retain = message.retain;
  publish.topic = message.topic;
  publish.payload = message.payload;
  publish.properties = message.properties;
  if (message.qos == 0) {
    WOJAK_RETURN_IF_ERROR(Send(EncodePublish(publish, options_.version)));
    return uint16_t{0};
  }
  if (broken_) return Unavailable("connection to the broker is broken");
  publish.packet_id = NextPacketId();
  outgoing_[publish.packet_id] = Clock::now();
  throttled_.push_back(EncodePublish(publish, options_.version));
  WOJAK_RETURN_IF_ERROR(SendThrottled());
  return publish.packet_id;
}

Status MqttClient::SendThrottled() {
  // outgoing_ counts sent and waiting publishes alike; the sent ones are the difference.
  while (!throttled_.empty() && outgoing_.size() - throttled_.size() < broker_receive_maximum_) {
    WOJAK_RETURN_IF_ERROR(Send(throttled_.front()));
    throttled_.pop_front();
  }
  return OkStatus();
}

Status MqttClient::Puback(uint16_t packet_id) {
  return Send(EncodePuback({packet_id, 0}, options_.version));
}

Status MqttClient::PublishConfirmed(std::span<const MqttOutgoing> messages, milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::set<uint16_t> waiting;
  for (const MqttOutgoing& message : messages) {
    MqttOutgoing confirmed = message;
    confirmed.qos = 1;
    WOJAK_ASSIGN_OR_RETURN(uint16_t packet_id, Publish(confirmed));
    waiting.insert(packet_id);
  }
  Status first_error;
  std::vector<MqttEvent> kept;  // publishes from the broker, handed back through Read()
  while (!waiting.empty() && first_error.ok()) {
    const milliseconds left = Remaining(deadline);
    if (left.count() == 0) {
      first_error =
          DeadlineExceeded(std::to_string(waiting.size()) + " of " +
                           std::to_string(messages.size()) + " publishes not acknowledged");
      break;
    }
    StatusOr<std::vector<MqttEvent>> events = Read(left);
    if (!events.ok()) {
      first_error = events.status();
      break;
    }
    for (MqttEvent& event : *events) {
      if (event.kind == MqttEvent::Kind::kPuback && waiting.erase(event.puback.packet_id) == 1) {
        if (event.puback.reason_code >= 0x80 && first_error.ok()) {
          first_error = PermissionDenied("the broker refused a publish (reason " +
                                         std::to_string(event.puback.reason_code) + ")");
        }
      } else if (event.kind == MqttEvent::Kind::kPublish) {
        kept.push_back(std::move(event));
      }
    }
  }
  for (MqttEvent& event : kept) early_events_.push_back(std::move(event));
  return first_error;
}

void MqttClient::Disconnect() {
  if (!broken_ && transport_ != nullptr) Send(EncodeDisconnect(options_.version)).IgnoreError();
  transport_.reset();
  broken_ = true;
}

milliseconds MqttClient::oldest_unacked_age() const {
  if (outgoing_.empty()) return milliseconds(0);
  Clock::time_point oldest = Clock::time_point::max();
  for (const auto& [id, sent_at] : outgoing_) oldest = std::min(oldest, sent_at);
  return std::chrono::duration_cast<milliseconds>(Clock::now() - oldest);
}

}  // namespace wojak::sidecar::mqtt
