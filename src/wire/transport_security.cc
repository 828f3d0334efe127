// Endpoint reachability and the plain-tcp refusal.
#include "wire/transport_security.h"

#include <arpa/inet.h>

namespace wojak {
namespace {

constexpr std::string_view kTcpScheme = "tcp://";

// The host of tcp://HOST:PORT (brackets of an IPv6 literal removed). For a connect endpoint
// with a source ("tcp://SRC;HOST:PORT") the destination host.
std::string_view TcpHost(std::string_view endpoint) {
  std::string_view address = endpoint.substr(kTcpScheme.size());
  if (size_t source_end = address.find(';'); source_end != std::string_view::npos) {
    address.remove_prefix(source_end + 1);
  }
  if (size_t colon = address.rfind(':'); colon != std::string_view::npos) {
    address = address.substr(0, colon);
  }
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  return address;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // "*", interface names, host names: may be reachable from elsewhere
}

}  // namespace

bool IsReachableFromOtherHosts(std::string_view endpoint) {
  if (!endpoint.starts_with(kTcpScheme)) return false;
  return !IsLoopbackHost(TcpHost(endpoint));
}

Status CheckEndpointSecurity(std::string_view what, std::string_view endpoint, bool curve,
                             bool allow_insecure_tcp) {
  if (curve || allow_insecure_tcp || !IsReachableFromOtherHosts(endpoint)) return OkStatus();
  return FailedPrecondition(
      std::string(what) + " " + std::string(endpoint) +
      " is reachable from other hosts without CURVE: orders would cross the network "
      "unauthenticated and unencrypted. Configure CURVE keys (wojak keygen), use a loopback "
      "address or ipc://, or set allow_insecure_tcp: true if the network is secured otherwise");
}

}  // namespace wojak
