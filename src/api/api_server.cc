// ApiServer: one async session per connection; each request is answered by ApiRouter on the
// session's I/O thread, then the next one is read (keep-alive, no pipelining needed here).
#include "api/api_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "api/router.h"
#include "common/log.h"
#include "journal/sqlite_journal.h"

namespace wojak::api {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpResponse = bhttp::response<bhttp::string_body>;

HttpResponse ToHttp(ApiResponse&& api, unsigned version, bool keep_alive) {
  HttpResponse response{static_cast<bhttp::status>(api.status), version};
  response.set(bhttp::field::server, "wojak");
  response.set(bhttp::field::content_type, api.content_type);
  for (const auto& [name, value] : api.headers) response.set(name, value);
  response.keep_alive(keep_alive);
  response.body() = std::move(api.body);
  response.prepare_payload();
  return response;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ApiRouter& router, const ApiOptions& options,
          std::atomic<int>& connections)
      : stream_(std::move(socket)), router_(router), options_(options), connections_(connections) {
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    client_ = ec ? "unknown" : remote.address().to_string();
  }
  ~Session() { connections_.fetch_sub(1, std::memory_order_relaxed); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    // A body larger than allowed is refused before it is sent (curl waits for 100 Continue).
    const auto& header = parser_->get();
    if (parser_->content_length() && *parser_->content_length() > options_.max_body_bytes) {
      return RespondAndClose(413, "PAYLOAD_TOO_LARGE",
                             "request body larger than api.max_body_bytes (" +
                                 std::to_string(options_.max_body_bytes) + ")");
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                          header.version());
      bhttp::async_write(stream_, *interim,
                         [self = shared_from_this(), interim](beast::error_code write_ec, size_t) {
                           if (write_ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto request = parser_->release();
    ApiRequest api;
    api.method = std::string(request.method_string());
    api.target = std::string(request.target());
    if (auto it = request.find(bhttp::field::authorization); it != request.end()) {
      api.authorization = std::string(it->value());
    }
    api.body = std::move(request.body());
    api.client = client_;
    Write(ToHttp(router_.Handle(api), request.version(), request.keep_alive()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return RespondAndClose(413, "PAYLOAD_TOO_LARGE",
                             "request body larger than api.max_body_bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return RespondAndClose(431, "HEADERS_TOO_LARGE",
                             "request headers larger than api.max_header_bytes");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return RespondAndClose(400, "BAD_REQUEST", "malformed HTTP request");
    }
    Close();  // peer closed, idle timeout, or a network error
  }

  void RespondAndClose(int status, std::string_view code, std::string_view message) {
    Write(ToHttp(ErrorResponse(status, code, message), 11, false));
  }

  void Write(HttpResponse&& response) {
    response_ = std::move(response);
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_write(
        stream_, *response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Close();
    const bool keep_alive = response_->keep_alive();
    response_.reset();
    if (!keep_alive) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  ApiRouter& router_;
  const ApiOptions& options_;
  std::atomic<int>& connections_;
  std::string client_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<HttpResponse> response_;
};

}  // namespace

class ApiServer::Impl {
 public:
  Impl(const ApiOptions& options, std::unique_ptr<ApiRouter> router)
      : options_(options),
        router_(std::move(router)),
        io_context_(options.threads),
        acceptor_(io_context_) {}
  ~Impl() { Stop(); }

  Status Listen() {
    auto host_port = SplitHostPort(options_.listen);
    if (!host_port.ok()) return host_port.status();
    auto [host, port] = *host_port;
    if (host == "localhost") host = "127.0.0.1";
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(host, ec);
    if (ec) return InvalidArgument("api.listen host '" + host + "' is not an IP address");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Unavailable("api cannot listen on " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this] { io_context_.run(); });
    }
    LogInfo("api_listening", {{"host", host}, {"port", static_cast<int64_t>(port_)}});
    return OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    net::post(io_context_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    // Sessions hold no work that must finish: stopping the context drops them.
    io_context_.stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  uint16_t port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept(
        net::make_strand(io_context_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == net::error::operation_aborted) return;
            LogWarn("api_accept_failed", {{"error", ec.message()}});
          } else if (connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            connections_.fetch_add(1, std::memory_order_relaxed);
            std::make_shared<Session>(std::move(socket), *router_, options_, connections_)->Start();
          }
          if (acceptor_.is_open()) Accept();
        });
  }

  // Sessions reference options_, router_ and connections_ until the I/O context that owns them
  // is destroyed, so those are declared (and outlive it) first.
  const ApiOptions options_;
  std::unique_ptr<ApiRouter> router_;
  std::atomic<int> connections_{0};
  net::io_context io_context_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }
uint16_t ApiServer::port() const { return impl_->port(); }
void ApiServer::Stop() { impl_->Stop(); }

StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiOptions& options, Engine& engine,
                                                      const Clock& clock) {
  const std::string journal_path = JournalPathForDataDir(engine.options().data_dir);
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<JournalQuery> orders, JournalQuery::Open(journal_path));
  auto requester = std::make_unique<EngineRequester>(engine.endpoint(), options.engine_timeout);
  auto router = std::make_unique<ApiRouter>(options, engine, std::move(orders),
                                            TickStorePathForDataDir(engine.options().data_dir),
                                            std::move(requester), clock);
  auto impl = std::make_unique<Impl>(options, std::move(router));
  WOJAK_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

}  // namespace wojak::api
