// Beast-based POST client. Every network step is asynchronous on a private io_context so that
// the stream's deadline applies (Beast timeouts only cover asynchronous operations).
#include "executors/http/http_post.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>

namespace wojak {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

// Responses larger than this are refused: a webhook or executor answer is a small JSON object.
constexpr uint64_t kMaxResponseBytes = 1 << 20;

Status TransportError(const beast::error_code& ec, std::string_view step, const HttpUrl& url) {
  std::string message =
      std::string(step) + " " + url.host + ":" + std::to_string(url.port) + ": " + ec.message();
  if (ec == beast::error::timeout || ec == net::error::operation_aborted) {
    return DeadlineExceeded(std::move(message));
  }
  return Unavailable(std::move(message));
}

}  // namespace

StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
    out.tls = true;
    out.port = 443;
  } else {
    return InvalidArgument("URL '" + std::string(url) + "' must start with http:// or https://");
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  }
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("URL '" + std::string(url) + "': user info is not supported");
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    std::string_view port_text = authority.substr(colon + 1);
    unsigned port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return InvalidArgument("URL '" + std::string(url) + "': bad port '" + std::string(port_text) +
                             "'");
    }
    out.port = static_cast<uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']') {
    authority = authority.substr(1, authority.size() - 2);
  }
  if (authority.empty()) return InvalidArgument("URL '" + std::string(url) + "' has no host");
  out.host = std::string(authority);
  return out;
}

bool IsRetryableHttpStatus(int status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

struct HttpPoster::Connection {
  net::io_context io;
  std::optional<ssl::context> tls_context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool open() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void Close() {
    beast::error_code ignored;
    if (open()) lowest().socket().close(ignored);
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Runs the io_context until the started operation has completed.
  void Run() {
    io.restart();
    io.run();
  }
};

HttpPoster::HttpPoster(HttpUrl url, HttpPostOptions options)
    : url_(std::move(url)), options_(std::move(options)), connection_(new Connection) {}

HttpPoster::~HttpPoster() {
  if (connection_) connection_->Close();
}

StatusOr<HttpResponse> HttpPoster::Post(std::string_view body, const HttpHeaderList& headers) {
  Connection& c = *connection_;
  auto open = [&]() -> Status {
    c.Close();
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    net::ip::address literal = net::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(literal, url_.port), url_.host,
                                                      std::to_string(url_.port));
    } else {
      tcp::resolver resolver(c.io);
      bool resolved = false;
      resolver.async_resolve(url_.host, std::to_string(url_.port),
                             [&](beast::error_code e, tcp::resolver::results_type results) {
                               ec = e;
                               endpoints = std::move(results);
                               resolved = true;
                             });
      c.io.restart();
      c.io.run_for(options_.timeout);
      if (!resolved) {
        resolver.cancel();
        c.Run();
        return DeadlineExceeded("resolving " + url_.host + " timed out");
      }
      if (ec) return TransportError(ec, "resolving", url_);
    }
    if (url_.tls) {
      try {
        if (!c.tls_context) {
          c.tls_context.emplace(ssl::context::tls_client);
          if (options_.ca_file.empty()) {
            c.tls_context->set_default_verify_paths();
          } else {
            c.tls_context->load_verify_file(options_.ca_file);
          }
          c.tls_context->set_verify_mode(ssl::verify_peer);
        }
        c.secure.emplace(c.io, *c.tls_context);
        c.secure->set_verify_callback(ssl::host_name_verification(url_.host));
      } catch (const std::exception& error) {
        c.Close();
        return Unavailable("TLS setup for " + url_.host + ": " + error.what());
      }
      // SNI: servers behind shared front ends (Lambda URLs, API Gateway) need the host name.
      if (!SSL_set_tlsext_host_name(c.secure->native_handle(), url_.host.c_str())) {
        c.Close();
        return Unavailable("TLS: cannot set the server name " + url_.host);
      }
    } else {
      c.plain.emplace(c.io);
    }
    c.lowest().expires_at(deadline);
    c.lowest().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    c.Run();
    if (ec) {
      c.Close();
      return TransportError(ec, "connecting to", url_);
    }
    c.lowest().socket().set_option(tcp::no_delay(true), ec);
    if (c.secure) {
      c.secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      c.Run();
      if (ec) {
        c.Close();
        return TransportError(ec, "TLS handshake with", url_);
      }
    }
    return OkStatus();
  };

  bhttp::request<bhttp::string_body> request{bhttp::verb::post, url_.target, 11};
  request.set(bhttp::field::host, url_.host);
  request.set(bhttp::field::content_type, "application/json");
  request.set(bhttp::field::user_agent, "wojak");
  request.keep_alive(true);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();

  auto exchange = [&]() -> StatusOr<HttpResponse> {
    beast::error_code ec;
    c.lowest().expires_after(options_.timeout);
    if (c.secure) {
      bhttp::async_write(*c.secure, request, [&](beast::error_code e, size_t) { ec = e; });
    } else {
      bhttp::async_write(*c.plain, request, [&](beast::error_code e, size_t) { ec = e; });
    }
    c.Run();
    if (ec) {
      c.Close();
      return TransportError(ec, "sending to", url_);
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (c.secure) {
      bhttp::async_read(*c.secure, c.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    } else {
      bhttp::async_read(*c.plain, c.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    }
    c.Run();
    if (ec) {
      c.Close();
      return TransportError(ec, "reading the response from", url_);
    }
    bhttp::response<bhttp::string_body> response = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(response.result_int());
    out.body = std::move(response.body());
    if (!response.keep_alive()) c.Close();
    return out;
  };

  try {
    const bool reused = c.open();
    if (!reused) WOJAK_RETURN_IF_ERROR(open());
    StatusOr<HttpResponse> result = exchange();
    if (!result.ok() && reused && result.status().code() != StatusCode::kDeadlineExceeded) {
      // The server may have closed the idle kept-alive connection; try once on a fresh one.
      WOJAK_RETURN_IF_ERROR(open());
      result = exchange();
    }
    return result;
  } catch (const std::exception& error) {
    c.Close();
    return Unavailable("POST to " + url_.host + ": " + error.what());
  }
}

}  // namespace wojak
