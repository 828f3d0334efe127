// Synchronous Beast client for the HTTP source.
#include "sidecar/sources/http/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/clock.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

beast::string_view Field(std::string_view text) { return {text.data(), text.size()}; }

class BeastClient final : public HttpClient {
 public:
  explicit BeastClient(HttpClientOptions options)
      : options_(std::move(options)), tls_context_(ssl::context::tls_client) {}

  Status Open() {
    try {
      Close();
      tcp::endpoint endpoint(net::ip::make_address(options_.host), options_.port);
      if (options_.tls) {
        if (options_.ca_file.empty()) {
          tls_context_.set_verify_mode(ssl::verify_none);
        } else {
          tls_context_.load_verify_file(options_.ca_file);
          tls_context_.set_verify_mode(ssl::verify_peer);
        }
        tls_stream_.emplace(io_context_, tls_context_);
        beast::get_lowest_layer(*tls_stream_).expires_after(options_.timeout);
        beast::get_lowest_layer(*tls_stream_).connect(endpoint);
        tls_stream_->handshake(ssl::stream_base::client);
      } else {
        plain_stream_.emplace(io_context_);
        plain_stream_->expires_after(options_.timeout);
        plain_stream_->connect(endpoint);
      }
      beast::get_lowest_layer(Lowest()).socket().set_option(tcp::no_delay(true));
      return OkStatus();
    } catch (const std::exception& error) {
      Close();
      return Unavailable("connecting to " + options_.host + ":" + std::to_string(options_.port) +
                         ": " + error.what());
    }
  }

  StatusOr<HttpResult> Request(std::string_view method, std::string_view target,
                               std::string_view body, const HttpHeaders& extra_headers) override {
    bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(Field(method)), Field(target),
                                               11};
    request.set(bhttp::field::host, options_.host);
    request.set(bhttp::field::content_type, "application/json");
    request.keep_alive(true);
    if (options_.auth == ClientAuth::kHmac) {
      for (const auto& [name, value] :
           SignedRequestHeaders(options_.key_id, options_.secret, method, target, body)) {
        request.set(Field(name), value);
      }
    } else if (options_.auth == ClientAuth::kBearer) {
      request.set(bhttp::field::authorization, "Bearer " + options_.secret);
    }
    for (const auto& [name, value] : extra_headers) request.set(Field(name), value);
    request.body() = std::string(body);
    request.prepare_payload();

    const bool reused = plain_stream_.has_value() || tls_stream_.has_value();
    if (!reused) WOJAK_RETURN_IF_ERROR(Open());
    StatusOr<HttpResult> result = Exchange(request);
    if (!result.ok() && reused) {
      // The server may have closed an idle kept-alive connection; try once on a fresh one.
      WOJAK_RETURN_IF_ERROR(Open());
      result = Exchange(request);
    }
    return result;
  }

 private:
  beast::tcp_stream& Lowest() {
    return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *plain_stream_;
  }

  StatusOr<HttpResult> Exchange(bhttp::request<bhttp::string_body>& request) {
    try {
      Lowest().expires_after(options_.timeout);
      bhttp::response<bhttp::string_body> response;
      if (tls_stream_) {
        bhttp::write(*tls_stream_, request);
        bhttp::read(*tls_stream_, buffer_, response);
      } else {
        bhttp::write(*plain_stream_, request);
        bhttp::read(*plain_stream_, buffer_, response);
      }
      HttpResult result;
      result.status = static_cast<int>(response.result_int());
      result.body = std::move(response.body());
      auto retry_after = response[bhttp::field::retry_after];
      result.retry_after.assign(retry_after.data(), retry_after.size());
      if (!response.keep_alive()) Close();
      return result;
    } catch (const std::exception& error) {
      Close();
      return Unavailable(std::string("HTTP exchange failed: ") + error.what());
    }
  }

  void Close() {
    beast::error_code ignored;
    if (plain_stream_) plain_stream_->socket().close(ignored);
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).socket().close(ignored);
    plain_stream_.reset();
    tls_stream_.reset();
    buffer_.clear();
  }

  HttpClientOptions options_;
  net::io_context io_context_;
  ssl::context tls_context_;
  std::optional<beast::tcp_stream> plain_stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpClient>> HttpClient::Connect(const HttpClientOptions& options) {
  auto client = std::make_unique<BeastClient>(options);
  WOJAK_RETURN_IF_ERROR(client->Open());
  return std::unique_ptr<HttpClient>(std::move(client));
}

HttpHeaders SignedRequestHeaders(std::string_view key_id, std::string_view secret,
                                 std::string_view method, std::string_view target,
                                 std::string_view body) {
  const int64_t now_ms = RealClock::Instance().Now() / kNanosPerMilli;
  SignedHeaders signed_headers =
      SignRequest(key_id, secret, method, target, body, now_ms, RandomHex128());
  return {{std::string(kKeyHeader), signed_headers.key},
          {std::string(kTimestampHeader), signed_headers.timestamp},
          {std::string(kNonceHeader), signed_headers.nonce},
          {std::string(kSignatureHeader), signed_headers.signature}};
}

}  // namespace wojak::sidecar::http
