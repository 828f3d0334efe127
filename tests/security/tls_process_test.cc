// HTTPS on the HTTP sidecar speaks TLS 1.2 or later only: a client that offers nothing newer than
// TLS 1.1 is refused by the server (a protocol_version alert, not a local refusal of the client:
// the client runs at security level 0 so it really offers TLS 1.1), and tls.min_version "1.3"
// refuses TLS 1.2 the same way.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "security_support.h"

namespace wojak::security {
namespace {

struct Handshake {
  bool connected = false;
  std::string version;  // "TLSv1.2", ... when connected
  int reason = 0;       // the OpenSSL reason code of the failure
  std::string error;
};

// One TLS handshake with 127.0.0.1:port offering versions min..max.
Handshake Connect(int port, int min_version, int max_version) {
  Handshake result;
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(context, 0);  // allow offering TLS 1.0/1.1 at all
  SSL_CTX_set_min_proto_version(context, min_version);
  SSL_CTX_set_max_proto_version(context, max_version);
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    result.error = "TCP connect failed";
  } else {
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    if (SSL_connect(ssl) == 1) {
      result.connected = true;
      result.version = SSL_get_version(ssl);
      SSL_shutdown(ssl);
    } else {
      const unsigned long error = ERR_get_error();
      result.reason = ERR_GET_REASON(error);
      char text[256];
      ERR_error_string_n(error, text, sizeof(text));
      result.error = text;
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(context);
  return result;
}

class TlsVersionTest : public ::testing::Test {
 protected:
  void StartSidecar(const std::string& min_version) {
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
        dir_.File("key.pem") + " -out " + dir_.File("cert.pem") + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    testing::WriteFile(dir_.File("token"), "tls-test-token-0123456789abcdef\n");
    port_ = testing::FreeLoopbackPort();
    testing::WriteFile(dir_.File("wojak.yaml"),
                       "sidecar:\n"
                       "  endpoint: ipc://" +
                           dir_.File("engine.sock") +
                           "\n"
                           "sources:\n"
                           "  http:\n"
                           "    listen: 127.0.0.1:" +
                           std::to_string(port_) +
                           "\n"
                           "    tls:\n"
                           "      enabled: true\n"
                           "      cert_file: " +
                           dir_.File("cert.pem") +
                           "\n"
                           "      key_file: " +
                           dir_.File("key.pem") +
                           "\n"
                           "      min_version: \"" +
                           min_version +
                           "\"\n"
                           "    auth:\n"
                           "      mode: bearer\n"
                           "      keys:\n"
                           "        strategies:\n"
                           "          accounts: [\"*\"]\n"
                           "          secret_file: " +
                           dir_.File("token") + "\n");
    sidecar_ =
        StartWojak(dir_, {"sidecar", "--source", "http", "--config", dir_.File("wojak.yaml")},
                   "sidecar.log", "http_source_listening");
  }

  testing::TempDir dir_;
  int port_ = 0;
  testing::ChildProcess sidecar_;
};

TEST_F(TlsVersionTest, RefusesAClientThatOffersAtMostTls11) {
  StartSidecar("1.2");
  Handshake old = Connect(port_, TLS1_VERSION, TLS1_1_VERSION);
  EXPECT_FALSE(old.connected) << old.version;
  EXPECT_EQ(old.reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << old.error;
}

TEST_F(TlsVersionTest, AcceptsTls12AndLater) {
  StartSidecar("1.2");
  Handshake tls12 = Connect(port_, TLS1_2_VERSION, TLS1_2_VERSION);
  EXPECT_TRUE(tls12.connected) << tls12.error;
  EXPECT_EQ(tls12.version, "TLSv1.2");
  Handshake tls13 = Connect(port_, TLS1_2_VERSION, TLS1_3_VERSION);
  EXPECT_TRUE(tls13.connected) << tls13.error;
  EXPECT_EQ(tls13.version, "TLSv1.3");
}

TEST_F(TlsVersionTest, MinimumVersion13RefusesTls12) {
  StartSidecar("1.3");
  Handshake tls12 = Connect(port_, TLS1_2_VERSION, TLS1_2_VERSION);
  EXPECT_FALSE(tls12.connected) << tls12.version;
  EXPECT_EQ(tls12.reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << tls12.error;
  EXPECT_TRUE(Connect(port_, TLS1_3_VERSION, TLS1_3_VERSION).connected);
}

}  // namespace
}  // namespace wojak::security
