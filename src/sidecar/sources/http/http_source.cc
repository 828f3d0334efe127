// HTTP(S) source on Boost.Beast: async sessions with keep-alive and pipelining (responses in
// request order), optional TLS, signed or bearer authentication, and a bounded hand-off queue to
// the pipeline thread. A response is written when the pipeline has settled every order in it.
#include "sidecar/sources/http/http_source.h"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "common/mpsc_queue.h"
#include "model/order_json.h"
#include "sidecar/request_builder.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using HttpRequest = bhttp::request<bhttp::string_body>;
using HttpResponse = bhttp::response<bhttp::string_body>;
using std::chrono::milliseconds;

constexpr std::string_view kOrdersPath = "/v1/orders";
constexpr std::string_view kOrderPrefix = "/v1/orders/";
constexpr std::string_view kCancelSuffix = "/cancel";
constexpr milliseconds kStopGrace{2000};
constexpr milliseconds kDrainingRetryAfter{1000};
// Response codes counted one by one in wojak_http_responses_total; anything else is "other".
constexpr unsigned kCountedCodes[] = {200, 400, 401, 403, 404, 405, 413, 422, 429, 431, 503};

std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }
beast::string_view Field(std::string_view name) { return {name.data(), name.size()}; }

std::string ErrorBody(std::string_view message) { return json{{"error", message}}.dump(); }

// Whole seconds for Retry-After, rounded up, at least 1.
int64_t RetryAfterSeconds(milliseconds delay) {
  return std::max<int64_t>(1, (delay.count() + 999) / 1000);
}

// How bad an item's status is when several orders share one response (the worst wins).
int StatusRank(unsigned status) {
  switch (status) {
    case 200:
      return 0;
    case 422:
      return 1;
    case 403:
      return 2;
    default:
      return 3;  // 503
  }
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int value = 0;
    for (size_t j = i + 1; j <= i + 2; ++j) {
      const char c = text[j];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        value |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        value |= c - 'A' + 10;
      } else {
        return std::nullopt;
      }
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// What the pipeline made of one order of a request.
struct Outcome {
  unsigned status = 0;
  std::string body;  // JSON
  milliseconds retry_after{0};
};

Outcome NackOutcome(milliseconds delay) {
  json reasons = json::array();
  reasons.push_back(
      {{"code", ReasonCodeName(ReasonCode::k_ENGINE_BUSY)},
       {"message",
        "not decided (engine unavailable or busy): send the same order again after the delay"}});
  json body = {{"decision", DecisionKindName(DecisionKind::kRetry)},
               {"retry_after_ms", delay.count()},
               {"reasons", std::move(reasons)}};
  return {503, body.dump(), delay};
}

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Runs on the session's strand when a pending response became ready.
  virtual void OnResponseReady() = 0;
};

// One HTTP request waiting for the pipeline to settle each of its orders. Lives on its
// session's strand; the pipeline thread reaches it only by posting there.
struct PendingRequest {
  explicit PendingRequest(std::shared_ptr<std::atomic<int64_t>> unwritten_counter)
      : unwritten(std::move(unwritten_counter)) {
    unwritten->fetch_add(1, std::memory_order_relaxed);
  }
  ~PendingRequest() { unwritten->fetch_sub(1, std::memory_order_relaxed); }
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  std::weak_ptr<SessionBase> session;
  net::any_io_executor executor;
  unsigned version = 11;
  bool keep_alive = true;
  bool is_array = false;
  std::vector<Outcome> items;
  size_t remaining = 0;
  std::optional<HttpResponse> response;
  // Responses not yet written; Stop() waits for it to reach zero before closing connections.
  std::shared_ptr<std::atomic<int64_t>> unwritten;
};

// Message::handle of the HTTP source: which order of which request. It keeps the session alive
// while the pipeline holds the order (a session waiting only for decisions has no I/O pending
// that would otherwise own it); the pipeline always settles or drops its messages, so no cycle.
struct ItemHandle {
  std::shared_ptr<PendingRequest> request;
  size_t index = 0;
  std::shared_ptr<SessionBase> session;
};

HttpResponse MakeResponse(unsigned status, std::string body, unsigned version, bool keep_alive,
                          milliseconds retry_after) {
  HttpResponse response{static_cast<bhttp::status>(status), version};
  response.set(bhttp::field::server, "wojak");
  response.set(bhttp::field::content_type, "application/json");
  if (status == 503 || status == 429) {
    response.set(bhttp::field::retry_after, std::to_string(RetryAfterSeconds(retry_after)));
  }
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

void Finish(PendingRequest& pending) {
  if (!pending.is_array) {
    Outcome& outcome = pending.items.front();
    pending.response = MakeResponse(outcome.status, std::move(outcome.body), pending.version,
                                    pending.keep_alive, outcome.retry_after);
    return;
  }
  unsigned status = 200;
  milliseconds retry_after{0};
  std::string body = "[";
  for (size_t i = 0; i < pending.items.size(); ++i) {
    const Outcome& outcome = pending.items[i];
    if (StatusRank(outcome.status) > StatusRank(status)) status = outcome.status;
    retry_after = std::max(retry_after, outcome.retry_after);
    if (i > 0) body += ",";
    body += outcome.body;
  }
  body += "]";
  pending.response =
      MakeResponse(status, std::move(body), pending.version, pending.keep_alive, retry_after);
}

}  // namespace

class HttpSource::Server {
 public:
  Server(HttpSourceOptions options, std::shared_ptr<const std::atomic<bool>> engine_available,
         const Clock& clock)
      : options_(std::move(options)),
        engine_available_(std::move(engine_available)),
        auth_(options_.auth, clock),
        queue_(options_.queue_capacity),
        io_context_(std::max(options_.io_threads, 1)),
        acceptor_(io_context_),
        unwritten_(std::make_shared<std::atomic<int64_t>>(0)),
        connections_gauge_(MetricsRegistry::Default().AddGauge(
            "wojak_http_connections", "open connections to the HTTP source")) {
    CounterFamily responses = MetricsRegistry::Default().AddCounterFamily(
        "wojak_http_responses_total", "HTTP source responses by status code", {"code"});
    for (size_t i = 0; i < std::size(kCountedCodes); ++i) {
      response_counters_[i] = &responses.WithLabels({std::to_string(kCountedCodes[i])});
    }
    response_counters_.back() = &responses.WithLabels({"other"});
  }

  ~Server() { Stop(); }

  Status Start();
  void Stop();
  void StopIntake();
  StatusOr<std::vector<Message>> Poll(size_t max_messages, milliseconds max_wait);
  void Complete(const Message& message, Outcome outcome);
  uint16_t port() const { return port_.load(std::memory_order_relaxed); }

  // Session side (on the session's strand).
  std::shared_ptr<PendingRequest> Handle(HttpRequest&& request, std::weak_ptr<SessionBase> session,
                                         net::any_io_executor executor);
  std::shared_ptr<PendingRequest> Immediate(unsigned status, std::string body, unsigned version);
  const HttpSourceOptions& options() const { return options_; }
  void OnSessionClosed() {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    connections_gauge_.Decrement();
  }
  void CountResponse(unsigned status) {
    size_t i = 0;
    while (i < std::size(kCountedCodes) && kCountedCodes[i] != status) ++i;
    response_counters_[i]->Increment();
  }

 private:
  void Accept();
  // Runs on an I/O thread: hands each completion queued by the pipeline to its session's strand.
  void DeliverCompletions();
  std::shared_ptr<PendingRequest> NewPending(std::weak_ptr<SessionBase> session,
                                             net::any_io_executor executor,
                                             const HttpRequest& request);
  std::shared_ptr<PendingRequest> Respond(std::shared_ptr<PendingRequest> pending, unsigned status,
                                          std::string body, milliseconds retry_after = {});
  std::shared_ptr<PendingRequest> HandleOrders(std::shared_ptr<PendingRequest> pending,
                                               HttpRequest& request);
  std::shared_ptr<PendingRequest> HandleCancel(std::shared_ptr<PendingRequest> pending,
                                               HttpRequest& request,
                                               const std::string& client_order_id);
  // Authenticates and charges the rate limit; on failure fills the response and returns false.
  bool Authorize(PendingRequest& pending, const HttpRequest& request, int64_t orders,
                 AuthResult& result);
  std::string IdentityBase(const HttpRequest& request, const AuthResult& auth) const;
  // Hands one order to the pipeline, or answers it 503 at once when the queue is full.
  void Enqueue(const std::shared_ptr<PendingRequest>& pending, size_t index, MessageKind kind,
               std::string body, std::string identity, std::shared_ptr<const AccountScope> scope);

  const HttpSourceOptions options_;
  const std::shared_ptr<const std::atomic<bool>> engine_available_;
  HttpAuthenticator auth_;
  MpscQueue<Message> queue_;
  std::vector<Message> taken_;  // popped from queue_ but not yet returned by Poll (consumer only)
  size_t taken_next_ = 0;
  net::io_context io_context_;
  std::optional<ssl::context> tls_;
  tcp::acceptor acceptor_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> intake_stopped_{false};
  std::atomic<int> connections_{0};
  std::atomic<uint16_t> port_{0};
  std::shared_ptr<std::atomic<int64_t>> unwritten_;
  bool stopped_ = false;
  Gauge& connections_gauge_;
  std::array<Counter*, std::size(kCountedCodes) + 1> response_counters_{};

  // Completions from the pipeline thread, delivered in batches: one wake-up of the I/O thread
  // per batch instead of one per order.
  struct Completion {
    std::shared_ptr<ItemHandle> item;
    Outcome outcome;
  };
  std::mutex completions_mutex_;
  std::vector<Completion> completions_;  // guarded by completions_mutex_
  bool delivery_posted_ = false;         // guarded by completions_mutex_
};

namespace {

// One connection. Reads requests ahead (pipelining, up to max_pipelined) while earlier ones wait
// for the pipeline, and writes responses strictly in request order.
template <bool kTls>
class Session final : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Session(tcp::socket&& socket, HttpSource::Server& server, ssl::context* tls)
      : stream_(MakeStream(std::move(socket), tls)), server_(server) {}
  ~Session() override { server_.OnSessionClosed(); }

  void Start() {
    if constexpr (kTls) {
      Lowest().expires_after(server_.options().idle_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (!ec) self->Read();
      });
    } else {
      net::dispatch(stream_.get_executor(), [self = Self()] { self->Read(); });
    }
  }

  void OnResponseReady() override { MaybeWrite(); }

 private:
  static Stream MakeStream(tcp::socket&& socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    const auto max_pipelined = static_cast<size_t>(server_.options().max_pipelined);
    if (reading_ || read_closed_ || closed_ || queue_.size() >= max_pipelined) return;
    reading_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options().max_header_bytes));
    parser_->body_limit(server_.options().max_body_bytes);
    Lowest().expires_after(server_.options().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    // curl and others wait (about a second) for "100 Continue" before sending a larger body.
    if (beast::iequals(header[bhttp::field::expect], "100-continue") && queue_.empty() &&
        !writing_) {
      writing_ = true;
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                          header.version());
      bhttp::async_write(stream_, *interim,
                         [self = Self(), interim](beast::error_code write_ec, size_t) {
                           self->writing_ = false;
                           if (write_ec) return self->Abort();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = Self()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    if (ec) return OnReadError(ec);
    HttpRequest request = parser_->release();
    std::shared_ptr<PendingRequest> pending =
        server_.Handle(std::move(request), weak_from_this(), stream_.get_executor());
    if (!pending->keep_alive) read_closed_ = true;
    queue_.push_back(std::move(pending));
    MaybeWrite();
    Read();
  }

  void OnReadError(beast::error_code ec) {
    reading_ = false;
    read_closed_ = true;
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    if (ec == bhttp::error::body_limit) {
      queue_.push_back(
          server_.Immediate(413, ErrorBody("body larger than max_body_bytes"), version));
    } else if (ec == bhttp::error::header_limit) {
      queue_.push_back(
          server_.Immediate(431, ErrorBody("headers larger than max_header_bytes"), version));
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      queue_.push_back(server_.Immediate(400, ErrorBody("malformed HTTP request"), version));
    }
    MaybeWrite();
  }

  void MaybeWrite() {
    if (writing_ || closed_) return;
    if (queue_.empty() || !queue_.front()->response) {
      if (queue_.empty() && read_closed_ && !reading_) Close();
      return;
    }
    writing_ = true;
    Lowest().expires_after(server_.options().idle_timeout);
    bhttp::async_write(stream_, *queue_.front()->response,
                       [self = Self()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (ec) return Abort();
    server_.CountResponse(queue_.front()->response->result_int());
    const bool keep_alive = queue_.front()->response->keep_alive();
    queue_.pop_front();
    if (!keep_alive) {
      read_closed_ = true;
      queue_.clear();
      Close();
      return;
    }
    MaybeWrite();
    Read();
  }

  // Graceful close once everything owed has been written.
  void Close() {
    if (closed_) return;
    closed_ = true;
    if constexpr (kTls) {
      Lowest().expires_after(milliseconds(1000));
      stream_.async_shutdown([self = Self()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  // The peer is gone or misbehaved: drop the connection. Orders already handed to the pipeline
  // are still decided; their responses are discarded (a resend gets DUPLICATE).
  void Abort() {
    read_closed_ = true;
    closed_ = true;
    queue_.clear();
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  Stream stream_;
  HttpSource::Server& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<std::shared_ptr<PendingRequest>> queue_;
  bool reading_ = false;
  bool writing_ = false;
  bool read_closed_ = false;
  bool closed_ = false;
};

}  // namespace

Status HttpSource::Server::Start() {
  try {
    if (options_.tls) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
      const int min_version = options_.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
      SSL_CTX_set_min_proto_version(tls_->native_handle(), min_version);
      beast::error_code ec;
      tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec)
        return InvalidArgument("tls.cert_file '" + options_.tls_cert_file + "': " + ec.message());
      tls_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
      if (ec)
        return InvalidArgument("tls.key_file '" + options_.tls_key_file + "': " + ec.message());
    }
    beast::error_code ec;
    const std::string host =
        options_.listen_host == "localhost" ? "127.0.0.1" : options_.listen_host;
    net::ip::address address = net::ip::make_address(host, ec);
    if (ec)
      return InvalidArgument("listen host '" + options_.listen_host + "' is not an IP address");
    tcp::endpoint endpoint(address, options_.listen_port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint, ec);
    if (ec) {
      return Unavailable("cannot listen on " + host + ":" + std::to_string(options_.listen_port) +
                         ": " + ec.message());
    }
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_.store(acceptor_.local_endpoint().port(), std::memory_order_relaxed);
  } catch (const std::exception& error) {
    return Unavailable(std::string("starting the HTTP listener: ") + error.what());
  }
  LogInfo("http_source_listening", {{"host", options_.listen_host},
                                    {"port", static_cast<int64_t>(port())},
                                    {"tls", options_.tls}});
  Accept();
  work_.emplace(io_context_.get_executor());
  for (int i = 0; i < std::max(options_.io_threads, 1); ++i) {
    threads_.emplace_back([this] { io_context_.run(); });
  }
  return OkStatus();
}

void HttpSource::Server::Accept() {
  acceptor_.async_accept(
      net::make_strand(io_context_), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
          if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
          LogWarn("http_source_accept_failed", {{"error", ec.message()}});
        } else if (connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          connections_.fetch_add(1, std::memory_order_relaxed);
          beast::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          if (tls_) {
            std::make_shared<Session<true>>(std::move(socket), *this, &*tls_)->Start();
          } else {
            std::make_shared<Session<false>>(std::move(socket), *this, nullptr)->Start();
          }
        }
        Accept();
      });
}

void HttpSource::Server::StopIntake() {
  if (intake_stopped_.exchange(true)) return;
  queue_.Close();
  std::vector<Message> left;
  queue_.PopAll(left, milliseconds(0));
  for (; taken_next_ < taken_.size(); ++taken_next_) left.push_back(std::move(taken_[taken_next_]));
  for (const Message& message : left) Complete(message, NackOutcome(kDrainingRetryAfter));
}

void HttpSource::Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  StopIntake();
  if (threads_.empty()) return;
  net::post(io_context_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  // Let the responses the pipeline already produced reach their clients.
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (unwritten_->load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  work_.reset();
  io_context_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

StatusOr<std::vector<Message>> HttpSource::Server::Poll(size_t max_messages,
                                                        milliseconds max_wait) {
  if (taken_next_ >= taken_.size()) {
    taken_next_ = 0;
    queue_.PopAll(taken_, max_wait);
  }
  std::vector<Message> out;
  const size_t count = std::min(max_messages, taken_.size() - taken_next_);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(std::move(taken_[taken_next_++]));
  return out;
}

void HttpSource::Server::Complete(const Message& message, Outcome outcome) {
  auto item = std::static_pointer_cast<ItemHandle>(message.handle);
  if (item == nullptr) return;
  bool post = false;
  {
    std::lock_guard lock(completions_mutex_);
    completions_.push_back({std::move(item), std::move(outcome)});
    post = !delivery_posted_;
    delivery_posted_ = true;
  }
  if (post) net::post(io_context_, [this] { DeliverCompletions(); });
}

void HttpSource::Server::DeliverCompletions() {
  std::vector<Completion> batch;
  {
    std::lock_guard lock(completions_mutex_);
    batch.swap(completions_);
    delivery_posted_ = false;
  }
  for (Completion& completion : batch) {
    net::any_io_executor executor = completion.item->request->executor;
    // From an I/O thread this queues on the strand without waking anyone.
    net::dispatch(executor, [item = std::move(completion.item),
                             outcome = std::move(completion.outcome)]() mutable {
      PendingRequest& pending = *item->request;
      pending.items[item->index] = std::move(outcome);
      if (--pending.remaining != 0) return;
      Finish(pending);
      if (item->session != nullptr) item->session->OnResponseReady();
    });
  }
}

std::shared_ptr<PendingRequest> HttpSource::Server::NewPending(std::weak_ptr<SessionBase> session,
                                                               net::any_io_executor executor,
                                                               const HttpRequest& request) {
  auto pending = std::make_shared<PendingRequest>(unwritten_);
  pending->session = std::move(session);
  pending->executor = std::move(executor);
  pending->version = request.version();
  pending->keep_alive = request.keep_alive();
  return pending;
}

std::shared_ptr<PendingRequest> HttpSource::Server::Immediate(unsigned status, std::string body,
                                                              unsigned version) {
  auto pending = std::make_shared<PendingRequest>(unwritten_);
  pending->version = version;
  pending->keep_alive = false;
  pending->response = MakeResponse(status, std::move(body), version, false, milliseconds(0));
  return pending;
}

std::shared_ptr<PendingRequest> HttpSource::Server::Respond(std::shared_ptr<PendingRequest> pending,
                                                            unsigned status, std::string body,
                                                            milliseconds retry_after) {
  pending->response =
      MakeResponse(status, std::move(body), pending->version, pending->keep_alive, retry_after);
  return pending;
}

std::shared_ptr<PendingRequest> HttpSource::Server::Handle(HttpRequest&& request,
                                                           std::weak_ptr<SessionBase> session,
                                                           net::any_io_executor executor) {
  std::shared_ptr<PendingRequest> pending =
      NewPending(std::move(session), std::move(executor), request);
  const std::string_view target = View(request.target());
  const std::string_view path = target.substr(0, target.find('?'));
  const bhttp::verb method = request.method();

  if (path == "/metrics") {
    if (method != bhttp::verb::get) {
      pending->response = MakeResponse(405, ErrorBody("use GET"), pending->version,
                                       pending->keep_alive, milliseconds(0));
      pending->response->set(bhttp::field::allow, "GET");
      return pending;
    }
    pending->response = MakeResponse(200, MetricsRegistry::Default().RenderPrometheus(),
                                     pending->version, pending->keep_alive, milliseconds(0));
    pending->response->set(bhttp::field::content_type, "text/plain; version=0.0.4");
    return pending;
  }
  if (path == "/healthz" || path == "/readyz") {
    if (method != bhttp::verb::get) {
      pending->response = MakeResponse(405, ErrorBody("use GET"), pending->version,
                                       pending->keep_alive, milliseconds(0));
      pending->response->set(bhttp::field::allow, "GET");
      return pending;
    }
    const bool engine_up = engine_available_->load(std::memory_order_relaxed);
    const bool ready = engine_up && !intake_stopped_.load(std::memory_order_relaxed);
    json body = {{"status", path == "/healthz" || ready ? "ok" : "unavailable"},
                 {"engine", engine_up ? "up" : "down"}};
    return Respond(std::move(pending), path == "/readyz" && !ready ? 503 : 200, body.dump(),
                   milliseconds(1000));
  }

  const bool is_orders = path == kOrdersPath;
  const bool is_cancel = path.size() > kOrderPrefix.size() + kCancelSuffix.size() &&
                         path.substr(0, kOrderPrefix.size()) == kOrderPrefix &&
                         path.substr(path.size() - kCancelSuffix.size()) == kCancelSuffix;
  std::optional<std::string> client_order_id;
  if (is_cancel) {
    std::string_view encoded =
        path.substr(kOrderPrefix.size(), path.size() - kOrderPrefix.size() - kCancelSuffix.size());
    if (encoded.find('/') == std::string_view::npos) client_order_id = PercentDecode(encoded);
    if (!client_order_id || client_order_id->empty()) {
      return Respond(std::move(pending), 404, ErrorBody("not found"));
    }
  }
  if (!is_orders && !is_cancel) return Respond(std::move(pending), 404, ErrorBody("not found"));
  if (method != bhttp::verb::post) {
    pending->response = MakeResponse(405, ErrorBody("use POST"), pending->version,
                                     pending->keep_alive, milliseconds(0));
    pending->response->set(bhttp::field::allow, "POST");
    return pending;
  }
  if (intake_stopped_.load(std::memory_order_relaxed)) {
    pending->keep_alive = false;
    return Respond(std::move(pending), 503, ErrorBody("sidecar is stopping; retry elsewhere"),
                   kDrainingRetryAfter);
  }
  return is_orders ? HandleOrders(std::move(pending), request)
                   : HandleCancel(std::move(pending), request, *client_order_id);
}

bool HttpSource::Server::Authorize(PendingRequest& pending, const HttpRequest& request,
                                   int64_t orders, AuthResult& result) {
  AuthHeaders headers;
  headers.key = View(request[Field(kKeyHeader)]);
  headers.timestamp = View(request[Field(kTimestampHeader)]);
  headers.nonce = View(request[Field(kNonceHeader)]);
  headers.signature = View(request[Field(kSignatureHeader)]);
  headers.authorization = View(request[bhttp::field::authorization]);
  result = auth_.Authenticate(View(request.method_string()), View(request.target()), request.body(),
                              headers);
  if (result.ok()) result = auth_.ChargeRate(std::move(result), orders);
  if (result.ok()) return true;
  pending.response = MakeResponse(result.http_status, ErrorBody(result.error), pending.version,
                                  pending.keep_alive, result.retry_after);
  if (result.http_status == 401) {
    pending.response->set(bhttp::field::www_authenticate,
                          auth_.mode() == AuthMode::kBearer ? "Bearer" : "WOJAK-HMAC-SHA256");
  }
  return false;
}

std::string HttpSource::Server::IdentityBase(const HttpRequest& request,
                                             const AuthResult& auth) const {
  // With an Idempotency-Key a resent request maps to the same derived client_order_ids; without
  // one (and without client_order_id in the order) every request is new.
  const std::string_view idempotency_key = View(request["Idempotency-Key"]);
  std::string base = auth.key_id;
  base += "/";
  if (idempotency_key.empty()) {
    base += RandomHex128();
  } else {
    base.append(idempotency_key);
  }
  return base;
}

void HttpSource::Server::Enqueue(const std::shared_ptr<PendingRequest>& pending, size_t index,
                                 MessageKind kind, std::string body, std::string identity,
                                 std::shared_ptr<const AccountScope> scope) {
  Message message;
  message.kind = kind;
  message.body = std::move(body);
  message.identity = std::move(identity);
  message.scope = std::move(scope);
  message.handle =
      std::make_shared<ItemHandle>(ItemHandle{pending, index, pending->session.lock()});
  if (queue_.TryPush(std::move(message))) return;
  // Full (or closed by a stop): answered here, on the session's strand.
  pending->items[index] = NackOutcome(kDrainingRetryAfter);
  --pending->remaining;
}

std::shared_ptr<PendingRequest> HttpSource::Server::HandleOrders(
    std::shared_ptr<PendingRequest> pending, HttpRequest& request) {
  std::string& body = request.body();
  const size_t first = body.find_first_not_of(" \t\r\n");
  std::vector<std::string> orders;
  const bool is_array = first != std::string::npos && body[first] == '[';
  if (is_array) {
    json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
      return Respond(
          std::move(pending), 422,
          DecisionToJson(InvalidOrderDecision("", "", {{"", "body is not valid JSON"}})));
    }
    if (document.empty()) return Respond(std::move(pending), 422, ErrorBody("empty array"));
    if (document.size() > static_cast<size_t>(options_.max_batch)) {
      return Respond(
          std::move(pending), 413,
          ErrorBody("array of " + std::to_string(document.size()) + " orders exceeds max_batch (" +
                    std::to_string(options_.max_batch) + ")"));
    }
    orders.reserve(document.size());
    for (const json& order : document) orders.push_back(order.dump());
  }
  AuthResult auth;
  if (!Authorize(*pending, request, is_array ? static_cast<int64_t>(orders.size()) : 1, auth)) {
    return pending;
  }
  const std::string identity = IdentityBase(request, auth);
  pending->is_array = is_array;
  pending->items.resize(is_array ? orders.size() : 1);
  pending->remaining = pending->items.size();
  if (!is_array) {
    Enqueue(pending, 0, MessageKind::kNewOrder, std::move(body), identity + "#0", auth.scope);
  } else {
    for (size_t i = 0; i < orders.size(); ++i) {
      Enqueue(pending, i, MessageKind::kNewOrder, std::move(orders[i]),
              identity + "#" + std::to_string(i), auth.scope);
    }
  }
  if (pending->remaining == 0) Finish(*pending);
  return pending;
}

std::shared_ptr<PendingRequest> HttpSource::Server::HandleCancel(
    std::shared_ptr<PendingRequest> pending, HttpRequest& request,
    const std::string& client_order_id) {
  AuthResult auth;
  if (!Authorize(*pending, request, 1, auth)) return pending;
  // The account comes from the body ({"account":"A"}), or from the key when it covers only one.
  std::string account;
  const std::string& body = request.body();
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
    const bool valid = document.is_object() && document.size() == 1 &&
                       document.contains("account") && document["account"].is_string();
    if (!valid) {
      return Respond(std::move(pending), 422,
                     ErrorBody("cancel body must be {\"account\":\"...\"} or empty"));
    }
    account = document["account"].get<std::string>();
  } else if (auth.scope != nullptr && !auth.scope->any_account &&
             auth.scope->accounts.size() == 1) {
    account = *auth.scope->accounts.begin();
  }
  if (account.empty()) {
    return Respond(std::move(pending), 422,
                   ErrorBody("account required: send {\"account\":\"...\"} in the body"));
  }
  pending->items.resize(1);
  pending->remaining = 1;
  Enqueue(pending, 0, MessageKind::kCancel, CancelBody(account, client_order_id),
          IdentityBase(request, auth) + "#cancel", auth.scope);
  if (pending->remaining == 0) Finish(*pending);
  return pending;
}

// ---- HttpSource ----

HttpSource::HttpSource(HttpSourceOptions options,
                       std::shared_ptr<const std::atomic<bool>> engine_available,
                       const Clock& clock)
    : server_(std::make_unique<Server>(std::move(options), std::move(engine_available), clock)) {}

HttpSource::~HttpSource() = default;

Status HttpSource::Start() { return server_->Start(); }

StatusOr<std::vector<Message>> HttpSource::Poll(size_t max_messages, milliseconds max_wait) {
  return server_->Poll(max_messages, max_wait);
}

Status HttpSource::Ack(const Message& message, const Decision& decision) {
  server_->Complete(message, Outcome{200, DecisionToJson(decision), milliseconds(0)});
  return OkStatus();
}

Status HttpSource::Nack(const Message& message, milliseconds delay) {
  server_->Complete(message, NackOutcome(delay));
  return OkStatus();
}

Status HttpSource::DeadLetter(const Message& message, const DeadLetterInfo& info) {
  switch (info.kind) {
    case DeadLetterKind::kMalformed: {
      Decision decision = info.decision;
      if (decision.reasons.empty()) {
        decision.kind = DecisionKind::kRejected;
        decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, info.reason, ""});
      }
      server_->Complete(message, Outcome{422, DecisionToJson(decision), milliseconds(0)});
      break;
    }
    case DeadLetterKind::kForbidden: {
      json body = {{"client_order_id", info.decision.client_order_id},
                   {"account", info.decision.account},
                   {"error", "forbidden: " + info.reason}};
      server_->Complete(message, Outcome{403, body.dump(), milliseconds(0)});
      break;
    }
    case DeadLetterKind::kTooManyAttempts:
      server_->Complete(message, Outcome{422, ErrorBody(info.reason), milliseconds(0)});
      break;
  }
  return OkStatus();
}

void HttpSource::StopIntake() { server_->StopIntake(); }

void HttpSource::Stop() { server_->Stop(); }

uint16_t HttpSource::port() const { return server_->port(); }

// ---- Configuration ----

HttpSourceOptions ReadHttpSourceOptions(ConfigSection& section) {
  HttpSourceOptions defaults;
  HttpSourceOptions options;
  const std::string listen =
      section.String("listen", "127.0.0.1:8080",
                     "HOST:PORT to listen on ([v6]:PORT for IPv6; port 0 = any free port)");
  const size_t colon = listen.rfind(':');
  int64_t port = -1;
  if (colon != std::string::npos) {
    options.listen_host = listen.substr(0, colon);
    if (options.listen_host.size() >= 2 && options.listen_host.front() == '[' &&
        options.listen_host.back() == ']') {
      options.listen_host = options.listen_host.substr(1, options.listen_host.size() - 2);
    }
    const std::string port_text = listen.substr(colon + 1);
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size()) port = -1;
  }
  beast::error_code address_error;
  if (options.listen_host != "localhost") net::ip::make_address(options.listen_host, address_error);
  if (port < 0 || port > 65535 || options.listen_host.empty() || address_error) {
    section.Error("listen", "expected IP:PORT (e.g. 127.0.0.1:8080), got '" + listen + "'");
  } else {
    options.listen_port = static_cast<uint16_t>(port);
  }
  options.io_threads = static_cast<int>(
      section.Int("io_threads", defaults.io_threads, "threads serving connections", 1, 64));
  options.max_connections =
      static_cast<int>(section.Int("max_connections", defaults.max_connections,
                                   "open connections beyond this are closed at once", 1, 1000000));
  options.max_body_bytes = static_cast<size_t>(
      section.Int("max_body_bytes", static_cast<int64_t>(defaults.max_body_bytes),
                  "larger request bodies are answered 413", 64, 64 * 1024 * 1024));
  options.max_header_bytes = static_cast<size_t>(
      section.Int("max_header_bytes", static_cast<int64_t>(defaults.max_header_bytes),
                  "larger request headers are answered 431", 512, 1024 * 1024));
  options.max_batch = static_cast<int>(section.Int(
      "max_batch", defaults.max_batch, "most orders in one JSON array (more: 413)", 1, 10000));
  options.max_pipelined = static_cast<int>(section.Int(
      "max_pipelined", defaults.max_pipelined,
      "requests read ahead on one connection while earlier ones await decisions", 1, 1024));
  options.queue_capacity = static_cast<size_t>(section.Int(
      "queue_capacity", static_cast<int64_t>(defaults.queue_capacity),
      "orders received and not yet taken by the pipeline; beyond it orders get 503", 1, 10000000));
  options.idle_timeout = section.Duration(
      "idle_timeout", defaults.idle_timeout,
      "a connection silent this long is closed (keep it above sidecar.request_timeout)");

  ConfigSection tls = section.Section("tls", "HTTPS (TLS 1.2 or later)");
  options.tls = tls.Bool("enabled", false, "serve HTTPS instead of HTTP");
  options.tls_cert_file = tls.String("cert_file", "", "PEM certificate chain (required with TLS)");
  options.tls_key_file = tls.String("key_file", "", "PEM private key (required with TLS)");
  options.tls_min_version =
      tls.Enum("min_version", defaults.tls_min_version, {"1.2", "1.3"}, "lowest TLS version");
  if (options.tls && options.tls_cert_file.empty()) tls.Error("cert_file", "required with TLS");
  if (options.tls && options.tls_key_file.empty()) tls.Error("key_file", "required with TLS");

  ConfigSection auth = section.Section("auth", "who may send orders, for which accounts");
  const std::string mode = auth.Enum(
      "mode", "hmac", {"hmac", "bearer", "none"},
      "hmac: signed requests (docs/sources/http.md); bearer: Authorization: Bearer <token>; "
      "none: no authentication, any account (only with a loopback listen address)");
  options.auth.mode = mode == "bearer" ? AuthMode::kBearer
                      : mode == "none" ? AuthMode::kNone
                                       : AuthMode::kHmac;
  if (options.auth.mode == AuthMode::kNone && !options.listen_host.empty() &&
      !IsLoopbackHost(options.listen_host)) {
    auth.Error("mode", "'none' is only allowed when listen is a loopback address (127.0.0.1)");
  }
  options.auth.timestamp_window = auth.Duration(
      "timestamp_window", defaults.auth.timestamp_window,
      "a signed request's X-Wojak-Timestamp must be within this of the server's clock");
  options.auth.nonce_cache_size = static_cast<size_t>(
      auth.Int("nonce_cache_size", static_cast<int64_t>(defaults.auth.nonce_cache_size),
               "nonces remembered (for 2 x timestamp_window); when full, signed requests get 503",
               1000, 100000000));
  const int64_t default_rate = auth.Int(
      "rate_per_s", 0, "default per-key limit in orders per second (0 = unlimited)", 0, 100000000);
  ConfigSection keys = auth.Section("keys", "API keys by key id");
  for (const std::string& id : keys.MapKeys()) {
    ConfigSection key = keys.Section(id, "one API key");
    HttpKey http_key;
    http_key.id = id;
    const bool valid_id =
        !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    if (!valid_id) keys.Error(id, "key ids are 1-64 characters of [A-Za-z0-9._-]");
    auto scope = std::make_shared<AccountScope>();
    for (const std::string& account : key.StringList(
             "accounts", {}, "accounts this key may trade for (\"*\" = every account)")) {
      if (account == "*") {
        scope->any_account = true;
      } else {
        scope->accounts.insert(account);
      }
    }
    if (!scope->any_account && scope->accounts.empty()) {
      key.Error("accounts", "list at least one account (or \"*\")");
    }
    http_key.scope = std::move(scope);
    std::optional<std::string> secret =
        key.Secret("secret", "HMAC secret (mode hmac) or bearer token (mode bearer)");
    if (secret && secret->size() < 16) {
      key.Error("secret", "must be at least 16 characters");
    } else if (!secret && options.auth.mode != AuthMode::kNone) {
      key.Error("secret", "missing");
    }
    if (secret) {
      RegisterSecret(*secret);
      http_key.secret = std::move(*secret);
    }
    http_key.rate_per_s =
        key.Int("rate_per_s", default_rate, "this key's limit in orders per second (0 = unlimited)",
                0, 100000000);
    options.auth.keys.push_back(std::move(http_key));
  }
  if (options.auth.mode != AuthMode::kNone && options.auth.keys.empty()) {
    auth.Error("keys", "at least one key is required with mode " + mode);
  }
  return options;
}

StatusOr<std::unique_ptr<Source>> HttpSource::Create(ConfigSection& section,
                                                     const SourceContext& context) {
  HttpSourceOptions options = ReadHttpSourceOptions(section);
  return std::unique_ptr<Source>(
      std::make_unique<HttpSource>(std::move(options), context.engine_available));
}

WOJAK_REGISTER_SOURCE("http", HttpSource::Create);

}  // namespace wojak::sidecar::http
