// ApiClient on Beast's synchronous tcp_stream; exceptions stop here.
#include "api/api_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace wojak::api {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ApiClient::Connection {
 public:
  net::io_context io_context;
  beast::tcp_stream stream{io_context};
  beast::flat_buffer buffer;
};

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, beast::string_view(name.data(), name.size()))) return value;
  }
  return "";
}

StatusOr<std::pair<std::string, uint16_t>> ParseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("expected http://HOST:PORT, got " + url);
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("expected http://HOST:PORT, got " + url);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), port);
  if (ec != std::errc() || ptr != rest.data() + rest.size() || port == 0 || port > 65535) {
    return InvalidArgument("bad port in " + url);
  }
  return std::make_pair(rest.substr(0, colon), static_cast<uint16_t>(port));
}

ApiClient::ApiClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

ApiClient::~ApiClient() = default;

StatusOr<HttpReply> ApiClient::Request(
    std::string_view method, std::string_view target, std::string_view body,
    std::string_view bearer,
    const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  bhttp::request<bhttp::string_body> request{
      bhttp::string_to_verb(beast::string_view(method.data(), method.size())),
      beast::string_view(target.data(), target.size()), 11};
  request.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
  request.set(bhttp::field::user_agent, "wojak");
  if (!bearer.empty()) request.set(bhttp::field::authorization, "Bearer " + std::string(bearer));
  if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
  for (const auto& [name, value] : extra_headers) request.set(name, value);
  request.body() = std::string(body);
  request.keep_alive(true);
  request.prepare_payload();

  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !connection_;
    try {
      if (fresh) {
        connection_ = std::make_unique<Connection>();
        ++connections_opened_;
        tcp::resolver resolver(connection_->io_context);
        connection_->stream.expires_after(timeout_);
        connection_->stream.connect(resolver.resolve(host_, std::to_string(port_)));
      }
      connection_->stream.expires_after(timeout_);
      bhttp::write(connection_->stream, request);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 << 20);
      bhttp::read(connection_->stream, connection_->buffer, parser);
      auto response = parser.release();
      HttpReply reply;
      reply.status = static_cast<int>(response.result_int());
      reply.body = std::move(response.body());
      for (const auto& field : response) {
        reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      if (!response.keep_alive()) connection_.reset();
      return reply;
    } catch (const std::exception& error) {
      last_error = error.what();
      connection_.reset();
      // A kept-alive connection the server closed meanwhile: try once on a new one.
      if (fresh) break;
    }
  }
  return Unavailable("HTTP " + std::string(method) + " " + std::string(target) + " to " + host_ +
                     ":" + std::to_string(port_) + ": " + last_error);
}

}  // namespace wojak::api
