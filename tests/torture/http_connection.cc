// HttpConnection: Beast asynchronous operations run to completion on a private io_context, because
// only asynchronous Beast operations honour a stream's expiry.
#include "http_connection.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace wojak::torture {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpConnection::State {
  std::string host;
  uint16_t port = 0;
  std::chrono::milliseconds timeout;
  net::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
    }
    stream.reset();
    buffer.clear();
  }

  // Runs the queued operation until it completes; the expiry cancels it on timeout.
  void RunToCompletion() {
    io.restart();
    io.run();
  }
};

HttpConnection::HttpConnection(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  state_->host = std::move(host);
  state_->port = port;
  state_->timeout = timeout;
}

HttpConnection::~HttpConnection() { state_->Close(); }

HttpAnswer HttpConnection::Exchange(const std::string& method, const std::string& target,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& body) {
  State& s = *state_;
  beast::error_code error;
  auto fail = [&](std::string_view step) {
    s.Close();
    return HttpAnswer{0, std::string(step) + ": " + error.message()};
  };
  if (!s.stream) {
    s.stream.emplace(s.io);
    s.stream->expires_after(s.timeout);
    s.stream->async_connect(tcp::endpoint(net::ip::make_address(s.host), s.port),
                            [&](beast::error_code e) { error = e; });
    s.RunToCompletion();
    if (error) return fail("connect");
    s.stream->socket().set_option(tcp::no_delay(true), error);
  }
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), target, 11};
  request.set(bhttp::field::host, s.host);
  request.set(bhttp::field::content_type, "application/json");
  request.keep_alive(true);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

  s.stream->expires_after(s.timeout);
  bhttp::async_write(*s.stream, request, [&](beast::error_code e, size_t) { error = e; });
  s.RunToCompletion();
  if (error) return fail("write");
  bhttp::response<bhttp::string_body> response;
  s.stream->expires_after(s.timeout);
  bhttp::async_read(*s.stream, s.buffer, response, [&](beast::error_code e, size_t) { error = e; });
  s.RunToCompletion();
  if (error) return fail("read");
  HttpAnswer answer{static_cast<int>(response.result_int()), std::move(response.body())};
  if (!response.keep_alive()) s.Close();
  return answer;
}

}  // namespace wojak::torture
