// ZmqServer: ROUTER socket, I/O thread, inbound queue to the sequencer, eventfd-woken replies.
#include "wire/server.h"

#include <grp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <type_traits>
#include <variant>

#include "common/clock.h"
#include "common/log.h"
#include "wire/codec.h"
#include "wire/transport_security.h"
#include "wire/zmq_socket_setup.h"
#include "wire/zmq_util.h"

namespace wojak {
namespace {

using zmq_util::SetInt;
using zmq_util::ZmqError;

constexpr std::string_view kIpcScheme = "ipc://";
// Where libzmq sends a context's ZAP (authentication) requests: https://rfc.zeromq.org/spec/27/
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr size_t kCurveKeyBytes = 32;
// Messages read per wake-up before replies get a turn, so a flood of requests cannot starve
// the replies the sequencer is waiting to send.
constexpr int kMaxReadsPerWake = 4096;

// True when something accepts connections on the unix socket at path.
bool UnixSocketIsLive(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return live;
}

// Prepares the file system for binding ipc://path: the directory exists and no stale socket
// file is in the way. A socket another process still serves is left alone (libzmq would
// silently unlink it and steal its clients).
Status PrepareIpcPath(const std::string& path) {
  if (path.empty()) return InvalidArgument("ipc:// endpoint has an empty path");
  if (path[0] == '@') return OkStatus();  // Linux abstract namespace: no file
  std::error_code error;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, error);
    if (error) {
      return IoError("creating directory " + parent.string() +
                     " for ipc socket: " + error.message());
    }
  }
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return OkStatus();
  if (!S_ISSOCK(info.st_mode)) {
    return FailedPrecondition("ipc path " + path + " exists and is not a socket");
  }
  if (UnixSocketIsLive(path)) {
    return FailedPrecondition("another process is already serving ipc://" + path);
  }
  if (::unlink(path.c_str()) != 0) {
    return IoError("removing stale ipc socket " + path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

// The place where transport security is decided: CURVE with the server key, and a ZAP domain so
// the context's ZAP handler (StartZapHandler) vets every client key.
Status ConfigureSecurity(void* socket, const ZmqServerOptions& options) {
  if (options.curve_secret_key.empty()) return OkStatus();
  WOJAK_RETURN_IF_ERROR(zmq_util::CheckCurveKey(options.curve_secret_key, "curve_secret_key"));
  uint8_t decoded[kCurveKeyBytes];
  const bool valid = zmq_z85_decode(decoded, options.curve_secret_key.c_str()) != nullptr;
  ::explicit_bzero(decoded, sizeof(decoded));
  if (!valid) return InvalidArgument("curve_secret_key is not valid Z85 (wojak keygen makes one)");
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER"));
  if (!options.curve_allowed_clients.empty()) {
    WOJAK_RETURN_IF_ERROR(zmq_util::SetString(socket, ZMQ_ZAP_DOMAIN, "wojak", "ZMQ_ZAP_DOMAIN"));
  }
  return zmq_util::SetString(socket, ZMQ_CURVE_SECRETKEY, options.curve_secret_key,
                             "ZMQ_CURVE_SECRETKEY");
}

// The allowlist as the 32-byte keys ZAP requests carry, sorted for binary search.
StatusOr<std::vector<std::string>> DecodeAllowedKeys(const std::vector<std::string>& keys) {
  std::vector<std::string> decoded;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string name = "curve_allowed_clients[" + std::to_string(i) + "]";
    WOJAK_RETURN_IF_ERROR(zmq_util::CheckCurveKey(keys[i], name));
    uint8_t binary[kCurveKeyBytes];
    if (zmq_z85_decode(binary, keys[i].c_str()) == nullptr) {
      return InvalidArgument(name + " is not valid Z85");
    }
    decoded.emplace_back(reinterpret_cast<const char*>(binary), kCurveKeyBytes);
  }
  std::sort(decoded.begin(), decoded.end());
  return decoded;
}

// The context's ZAP handler socket. Bound before the ROUTER so no handshake can happen without
// it: libzmq lets every CURVE client in when no handler is bound.
StatusOr<void*> StartZapHandler(void* context) {
  void* socket = zmq_socket(context, ZMQ_REP);
  if (socket == nullptr) return ZmqError("zmq_socket(REP) for ZAP");
  int no_linger = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &no_linger, sizeof(no_linger));
  if (zmq_bind(socket, kZapEndpoint) != 0) {
    Status error = ZmqError(std::string("zmq_bind(") + kZapEndpoint + ")");
    zmq_close(socket);
    return error;
  }
  return socket;
}

StatusOr<gid_t> LookupGroup(const std::string& group) {
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  const int error = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0 || found == nullptr) {
    return InvalidArgument("ipc_group: no group named '" + group + "'");
  }
  return found->gr_gid;
}

Status ConfigureSocket(void* socket, const ZmqServerOptions& options) {
  const int heartbeat_ms =
      static_cast<int>(std::max<int64_t>(options.heartbeat_interval.count(), 1));
  // Unroutable replies fail with EHOSTUNREACH (counted) instead of vanishing silently.
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_SNDHWM, options.high_water_mark, "ZMQ_SNDHWM"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RCVHWM, options.high_water_mark, "ZMQ_RCVHWM"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_IVL, heartbeat_ms, "ZMQ_HEARTBEAT_IVL"));
  WOJAK_RETURN_IF_ERROR(
      SetInt(socket, ZMQ_HEARTBEAT_TIMEOUT, heartbeat_ms * 3, "ZMQ_HEARTBEAT_TIMEOUT"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_TTL, heartbeat_ms * 3, "ZMQ_HEARTBEAT_TTL"));
  if (zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &options.max_message_bytes,
                     sizeof(options.max_message_bytes)) != 0) {
    return ZmqError("zmq_setsockopt(ZMQ_MAXMSGSIZE)");
  }
  return ConfigureSecurity(socket, options);
}

// Binds, applying the ipc file-system rules around the bind.
Status Bind(void* socket, const std::string& endpoint, const std::string& ipc_group) {
  const bool is_ipc = endpoint.starts_with(kIpcScheme);
  std::string path = is_ipc ? endpoint.substr(kIpcScheme.size()) : std::string();
  std::optional<gid_t> group;
  if (is_ipc && !ipc_group.empty()) {
    WOJAK_ASSIGN_OR_RETURN(group, LookupGroup(ipc_group));
  }
  if (is_ipc) WOJAK_RETURN_IF_ERROR(PrepareIpcPath(path));
  if (zmq_bind(socket, endpoint.c_str()) != 0) return ZmqError("zmq_bind(" + endpoint + ")");
  // Owner and group (the sidecars' group) may connect; nobody else.
  if (is_ipc && path[0] != '@' && ::chmod(path.c_str(), 0660) != 0) {
    return IoError("chmod 0660 " + path + ": " + std::strerror(errno));
  }
  // Sidecars running under this group may connect; the mode above keeps everyone else out.
  if (group && path[0] != '@' && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    return IoError("giving ipc socket " + path + " to group " + ipc_group + ": " +
                   std::strerror(errno));
  }
  return OkStatus();
}

StatusOr<std::string> LastEndpoint(void* socket) {
  char buffer[1024];
  size_t size = sizeof(buffer);
  if (zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, buffer, &size) != 0) {
    return ZmqError("zmq_getsockopt(ZMQ_LAST_ENDPOINT)");
  }
  return std::string(buffer);
}

// The RETRY the I/O thread gives when the sequencer cannot take a request.
Decision BusyDecision(const Request& request, uint32_t retry_after_ms, std::string message) {
  Decision decision;
  decision.kind = DecisionKind::kRetry;
  decision.retry_after_ms = retry_after_ms;
  decision.reasons.push_back({ReasonCode::k_ENGINE_BUSY, std::move(message), ""});
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, OrderRequest> || std::is_same_v<T, CancelRequest> ||
                      std::is_same_v<T, ModifyRequest>) {
          decision.client_order_id = r.client_order_id;
          decision.account = r.account;
        }
      },
      request);
  return decision;
}

}  // namespace

Status ConfigureCurveServer(void* socket, const std::string& secret_key,
                            const std::vector<std::string>& allowed_client_keys) {
  ZmqServerOptions options;
  options.curve_secret_key = secret_key;
  options.curve_allowed_clients = allowed_client_keys;
  return ConfigureSecurity(socket, options);
}

StatusOr<std::vector<std::string>> DecodeCurveAllowlist(const std::vector<std::string>& keys) {
  return DecodeAllowedKeys(keys);
}

StatusOr<void*> BindZapHandler(void* context) { return StartZapHandler(context); }

uint64_t AnswerCurveZapRequests(void* zap_socket, const std::vector<std::string>& allowed_keys,
                                std::string_view refused_event) {
  uint64_t refused = 0;
  while (true) {
    // ZAP request frames: version, request id, domain, address, identity, mechanism, then the
    // mechanism's credentials (CURVE: the client's 32-byte public key).
    std::vector<std::string> frames;
    for (bool more = true; more;) {
      zmq_util::Message frame;
      if (zmq_msg_recv(frame.get(), zap_socket, ZMQ_DONTWAIT) < 0) {
        if (frames.empty()) return refused;  // nothing queued
        break;                               // cannot happen: a message's frames arrive together
      }
      frames.emplace_back(frame.view());
      more = frame.more();
    }
    const bool allowed = frames.size() >= 7 && frames[5] == "CURVE" &&
                         frames[6].size() == kCurveKeyBytes &&
                         std::binary_search(allowed_keys.begin(), allowed_keys.end(), frames[6]);
    if (!allowed) {
      ++refused;
      char key[41] = "";
      if (frames.size() >= 7 && frames[6].size() == kCurveKeyBytes) {
        zmq_z85_encode(key, reinterpret_cast<const uint8_t*>(frames[6].data()), kCurveKeyBytes);
      }
      // A public key and an address: nothing secret, and what an operator needs to decide.
      LogWarn(refused_event, {{"client_public_key", std::string_view(key)},
                              {"address", frames.size() > 3 ? frames[3] : ""}});
    }
    const std::string request_id = frames.size() > 1 ? frames[1] : "";
    const std::string reply[] = {
        "1.0", request_id, allowed ? "200" : "400", allowed ? "OK" : "client key not allowed",
        "",    ""};
    for (size_t i = 0; i < std::size(reply); ++i) {
      const int flags = i + 1 < std::size(reply) ? ZMQ_SNDMORE : 0;
      zmq_send(zap_socket, reply[i].data(), reply[i].size(), flags);
    }
  }
}

Status BindZmqEndpoint(void* socket, const std::string& endpoint, const std::string& ipc_group) {
  return Bind(socket, endpoint, ipc_group);
}

StatusOr<std::unique_ptr<ZmqServer>> ZmqServer::Start(const ZmqServerOptions& options) {
  if (options.inbound_capacity == 0) return InvalidArgument("inbound_capacity must be positive");
  WOJAK_RETURN_IF_ERROR(CheckEndpointSecurity("engine endpoint", options.endpoint,
                                              !options.curve_secret_key.empty(),
                                              options.allow_insecure_tcp));
  WOJAK_ASSIGN_OR_RETURN(std::vector<std::string> allowed_keys,
                         DecodeAllowedKeys(options.curve_allowed_clients));
  void* context = zmq_ctx_new();
  if (context == nullptr) return ZmqError("zmq_ctx_new");
  void* socket = zmq_socket(context, ZMQ_ROUTER);
  if (socket == nullptr) {
    Status error = ZmqError("zmq_socket(ROUTER)");
    zmq_ctx_term(context);
    return error;
  }
  void* zap_socket = nullptr;
  auto fail = [&](Status status) {
    int no_linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &no_linger, sizeof(no_linger));
    zmq_close(socket);
    if (zap_socket != nullptr) zmq_close(zap_socket);
    zmq_ctx_term(context);
    return status.WithContext("starting engine transport on " + options.endpoint);
  };
  if (!options.curve_secret_key.empty() && !allowed_keys.empty()) {
    StatusOr<void*> zap = StartZapHandler(context);
    if (!zap.ok()) return fail(zap.status());
    zap_socket = *zap;
  }
  Status configured = ConfigureSocket(socket, options);
  if (!configured.ok()) return fail(configured);
  Status bound = Bind(socket, options.endpoint, options.ipc_group);
  if (!bound.ok()) return fail(bound);
  StatusOr<std::string> endpoint = LastEndpoint(socket);
  if (!endpoint.ok()) return fail(endpoint.status());
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return fail(IoError(std::string("eventfd: ") + std::strerror(errno)));
  std::unique_ptr<ZmqServer> server(
      new ZmqServer(options, context, socket, zap_socket, wake_fd, std::move(*endpoint)));
  server->allowed_client_keys_ = std::move(allowed_keys);
  server->io_thread_ = std::thread([raw = server.get()] { raw->Run(); });
  return server;
}

ZmqServer::ZmqServer(const ZmqServerOptions& options, void* context, void* socket, void* zap_socket,
                     int wake_fd, std::string endpoint)
    : options_(options),
      context_(context),
      socket_(socket),
      zap_socket_(zap_socket),
      wake_fd_(wake_fd),
      endpoint_(std::move(endpoint)),
      inbound_(options.inbound_capacity) {}

ZmqServer::~ZmqServer() { Stop(); }

void ZmqServer::SendReplies(std::vector<OutboundReply>&& replies) {
  if (replies.empty()) return;
  bool wake;
  {
    std::lock_guard lock(outbound_mutex_);
    if (closed_) {
      counters_.dropped_replies.fetch_add(replies.size(), std::memory_order_relaxed);
      replies.clear();
      return;
    }
    // Only the empty → non-empty transition needs a wake-up; later appends ride along.
    wake = outbound_.empty();
    if (wake) {
      outbound_.swap(replies);
    } else {
      for (OutboundReply& reply : replies) outbound_.push_back(std::move(reply));
    }
  }
  replies.clear();
  if (wake) Wake();
}

void ZmqServer::StopIntake() {
  intake_stopped_.store(true, std::memory_order_release);
  inbound_.Close();
}

void ZmqServer::Stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (!io_thread_.joinable()) return;
  StopIntake();
  {
    std::lock_guard lock(outbound_mutex_);
    stopping_ = true;
  }
  Wake();
  io_thread_.join();
  ::close(wake_fd_);
  zmq_ctx_term(context_);  // returns once linger has delivered or expired
}

void ZmqServer::Wake() {
  uint64_t one = 1;
  // Cannot fail short of the 2^64 counter limit; a lost write would only delay one batch.
  [[maybe_unused]] ssize_t written = ::write(wake_fd_, &one, sizeof(one));
}

void ZmqServer::Run() {
  zmq_pollitem_t items[3] = {{socket_, 0, ZMQ_POLLIN, 0},
                             {nullptr, wake_fd_, ZMQ_POLLIN, 0},
                             {zap_socket_, 0, ZMQ_POLLIN, 0}};
  const int item_count = zap_socket_ != nullptr ? 3 : 2;
  std::optional<std::chrono::steady_clock::time_point> close_at;
  while (true) {
    long timeout_ms = -1;  // the hot path never wakes on a timer
    if (close_at) {
      auto remaining = std::chrono::ceil<std::chrono::milliseconds>(
          *close_at - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) break;
      timeout_ms = static_cast<long>(remaining.count());
    }
    if (zmq_poll(items, item_count, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t read_bytes = ::read(wake_fd_, &count, sizeof(count));
      bool stopping;
      {
        std::lock_guard lock(outbound_mutex_);
        stopping = stopping_;
      }
      if (stopping && !close_at) {
        close_at = std::chrono::steady_clock::now() + options_.close_grace;
      }
      SendPending();
    }
    // Once intake is stopped these are answered RETRY, so clients requeue at once.
    if (items[0].revents & ZMQ_POLLIN) ReadInbound();
    if (item_count == 3 && (items[2].revents & ZMQ_POLLIN)) AnswerZapRequests();
  }
  {
    std::lock_guard lock(outbound_mutex_);
    closed_ = true;
  }
  SendPending();
  int linger_ms = static_cast<int>(options_.linger.count());
  zmq_setsockopt(socket_, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
  zmq_close(socket_);
  if (zap_socket_ != nullptr) zmq_close(zap_socket_);
}

void ZmqServer::AnswerZapRequests() {
  counters_.clients_refused.fetch_add(
      AnswerCurveZapRequests(zap_socket_, allowed_client_keys_, "engine_client_refused"),
      std::memory_order_relaxed);
}

void ZmqServer::ReadInbound() {
  for (int n = 0; n < kMaxReadsPerWake; ++n) {
    zmq_util::Message routing_id;
    if (zmq_msg_recv(routing_id.get(), socket_, ZMQ_DONTWAIT) < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: nothing more to read
    }
    if (!routing_id.more()) continue;  // ROUTER always delivers identity + payload
    zmq_util::Message payload;
    if (zmq_msg_recv(payload.get(), socket_, ZMQ_DONTWAIT) < 0) return;
    if (payload.more()) {
      int frames = 1;
      for (bool more = true; more; ++frames) {
        zmq_util::Message extra;
        if (zmq_msg_recv(extra.get(), socket_, ZMQ_DONTWAIT) < 0) break;
        more = extra.more();
      }
      counters_.malformed_frames.fetch_add(1, std::memory_order_relaxed);
      SendFrame(routing_id.view(),
                EncodeErrorReply(PeekRequestId(payload.view()),
                                 "expected one frame per message, got " + std::to_string(frames)));
      continue;
    }
    HandleFrame(routing_id.view(), payload.view());
  }
}

void ZmqServer::HandleFrame(std::string_view routing_id, std::string_view payload) {
  StatusOr<DecodedRequest> decoded = DecodeRequest(payload);
  if (!decoded.ok()) {
    counters_.malformed_frames.fetch_add(1, std::memory_order_relaxed);
    SendFrame(routing_id, EncodeErrorReply(PeekRequestId(payload), decoded.status().message()));
    return;
  }
  counters_.requests_received.fetch_add(1, std::memory_order_relaxed);
  const uint64_t request_id = decoded->request_id;
  if (std::holds_alternative<PingRequest>(decoded->request)) {
    SendFrame(routing_id, EncodePong(request_id));
    return;
  }
  if (!intake_stopped_.load(std::memory_order_acquire)) {
    InboundRequest inbound{std::string(routing_id), request_id, std::move(decoded->request),
                           RealClock::Instance().Monotonic()};
    if (inbound_.TryPush(std::move(inbound))) return;
    // TryPush leaves a refused item intact, so the request can still be named in the reply.
    decoded->request = std::move(inbound.request);
  }
  std::string message = inbound_.closed() ? std::string("engine is shutting down")
                                          : "engine queue is full (" +
                                                std::to_string(inbound_.capacity()) + " requests)";
  counters_.busy_replies.fetch_add(1, std::memory_order_relaxed);
  SendFrame(routing_id, EncodeDecisionReply(
                            request_id, BusyDecision(decoded->request, options_.busy_retry_after_ms,
                                                     std::move(message))));
}

void ZmqServer::SendPending() {
  {
    std::lock_guard lock(outbound_mutex_);
    sending_.swap(outbound_);
  }
  for (OutboundReply& reply : sending_) {
    if (reply.encoded_reply.empty()) {
      SendFrame(reply.routing_id, EncodeDecisionReply(reply.request_id, reply.decision));
    } else {
      SendFrame(reply.routing_id, reply.encoded_reply);
    }
  }
  sending_.clear();
}

void ZmqServer::SendFrame(std::string_view routing_id, std::string_view payload) {
  if (zmq_send(socket_, routing_id.data(), routing_id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
      zmq_send(socket_, payload.data(), payload.size(), ZMQ_DONTWAIT) < 0) {
    // EHOSTUNREACH: the client disconnected. EAGAIN: its queue is full because it stopped
    // reading; it will time out and resend, and the journal answers DUPLICATE.
    auto& counter =
        errno == EHOSTUNREACH ? counters_.unroutable_replies : counters_.dropped_replies;
    counter.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  counters_.replies_sent.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace wojak
