// Our MQTT client against mosquitto: a withheld PUBACK keeps the message in the session and the
// broker sends it again (DUP) after a reconnect; an acknowledged one is gone; QoS 1 publishes are
// acknowledged; interop with libmosquitto's mosquitto_pub; MQTT 5 request/response properties.
#include <gtest/gtest.h>

#include "mosquitto_broker.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace mq = sidecar::mqtt;
using namespace std::chrono_literals;

std::vector<mq::PublishPacket> ReadPublishes(mq::MqttClient& client, size_t count,
                                             std::chrono::milliseconds timeout) {
  std::vector<mq::PublishPacket> got;
  WaitUntil(
      [&] {
        auto events = client.Read(20ms);
        if (!events.ok()) {
          ADD_FAILURE() << events.status().ToString();
          return true;
        }
        for (auto& event : *events) {
          if (event.kind == mq::MqttEvent::Kind::kPublish) got.push_back(event.publish);
        }
        return got.size() >= count;
      },
      timeout);
  return got;
}

std::unique_ptr<mq::MqttClient> Connected(const mq::MqttClientOptions& options) {
  auto client = mq::MqttClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

class MqttClientTest : public ::testing::TestWithParam<mq::MqttVersion> {
 protected:
  TempDir dir_;
  MosquittoBroker broker_{dir_.path()};
};

INSTANTIATE_TEST_SUITE_P(Versions, MqttClientTest,
                         ::testing::Values(mq::MqttVersion::k311, mq::MqttVersion::k5),
                         [](const auto& info) {
                           return info.param == mq::MqttVersion::k5 ? "v5" : "v311";
                         });

TEST_P(MqttClientTest, WithheldPubackKeepsTheMessageInTheSessionUntilAcknowledged) {
  const mq::MqttClientOptions options = broker_.ClientOptions("consumer", GetParam());
  auto consumer = Connected(options);
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(consumer->Subscribe({"orders/#"}, 1, 5s).ok());
  MqttTestClient publisher(broker_, "publisher", GetParam());
  publisher.Publish("orders/s1", "first");

  auto got = ReadPublishes(*consumer, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "first");
  EXPECT_FALSE(got[0].dup);
  consumer.reset();  // gone without a PUBACK, as a crashed sidecar would be

  consumer = Connected(options);
  ASSERT_NE(consumer, nullptr);
  EXPECT_TRUE(consumer->session_present());
  auto again = ReadPublishes(*consumer, 1, 5s);
  ASSERT_EQ(again.size(), 1u) << "the broker sends the unacknowledged message again";
  EXPECT_EQ(again[0].payload, "first");
  EXPECT_TRUE(again[0].dup);
  ASSERT_TRUE(consumer->Puback(again[0].packet_id).ok());
  consumer->Disconnect();

  consumer = Connected(options);
  ASSERT_NE(consumer, nullptr);
  publisher.Publish("orders/s1", "second");
  auto after = ReadPublishes(*consumer, 1, 5s);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].payload, "second") << "the acknowledged message must not come back";
}

TEST_P(MqttClientTest, PublishConfirmedWaitsForEveryAcknowledgement) {
  MqttTestClient subscriber(broker_, "subscriber", GetParam());
  subscriber.Subscribe({"events/#"});
  auto sink = Connected(broker_.ClientOptions("sink", GetParam()));
  ASSERT_NE(sink, nullptr);
  std::vector<mq::MqttOutgoing> batch(200);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].topic = "events/" + std::to_string(i % 3);
    batch[i].payload = std::to_string(i);
  }
  Status status = sink->PublishConfirmed(batch, 10s);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(sink->unacked_publishes(), 0u);
  EXPECT_EQ(subscriber.Collect(batch.size(), 10s).size(), batch.size());
}

// Request/response and user properties exist only in MQTT 5.
class MqttClient5Test : public MqttClientTest {};
INSTANTIATE_TEST_SUITE_P(Version5, MqttClient5Test, ::testing::Values(mq::MqttVersion::k5),
                         [](const auto&) { return "v5"; });

TEST_P(MqttClient5Test, CarriesResponseTopicCorrelationDataAndUserProperties) {
  MqttTestClient subscriber(broker_, "subscriber", mq::MqttVersion::k5);
  subscriber.Subscribe({"orders/#"});
  MqttTestClient publisher(broker_, "publisher", mq::MqttVersion::k5);
  mq::MqttProperties properties;
  properties.response_topic = "replies/s1";
  properties.correlation_data = std::string("\x01\x00\x02", 3);
  properties.user_properties = {{"message_id", "m-9"}};
  publisher.Publish("orders/s1", "{}", properties);
  const auto& got = subscriber.Collect(1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties.response_topic, "replies/s1");
  EXPECT_EQ(got[0].properties.correlation_data, std::string("\x01\x00\x02", 3));
  EXPECT_EQ(got[0].properties.UserProperty("message_id"), "m-9");
}

TEST(MqttClientInteropTest, ReceivesWhatMosquittoPubSendsInOrder) {
  TempDir dir;
  MosquittoBroker broker(dir.path());
  MqttTestClient subscriber(broker, "subscriber");
  subscriber.Subscribe({"orders/#"});
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back("{\"n\":" + std::to_string(i) + "}");
  ASSERT_EQ(MosquittoPublishLines(broker, "orders/s1", lines, dir.path()), 0)
      << ReadFile(dir.File("mosquitto_pub.log"));
  const auto& got = subscriber.Collect(lines.size(), 10s);
  ASSERT_EQ(got.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(got[i].payload, lines[i]);
}

TEST(MqttClientInteropTest, RefusedCredentialsAreAnAuthenticationError) {
  TempDir dir;
  MosquittoBroker broker(dir.path(), "allow_anonymous false\n");
  auto client = mq::MqttClient::Connect(broker.ClientOptions("nobody"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kPermissionDenied) << client.status().ToString();
}

// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl command line.
void MakeCertificates(const TempDir& dir, const std::string& name) {
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess openssl = ChildProcess::Start(argv, dir.File("openssl.log"));
    ASSERT_EQ(openssl.Wait(60s), 0) << ReadFile(dir.File("openssl.log"));
  };
  const std::string ec = "ec:" + dir.File("curve.pem");
  run({"ecparam", "-name", "prime256v1", "-out", dir.File("curve.pem")});
  run({"req", "-x509", "-newkey", ec, "-nodes", "-keyout", dir.File(name + "-ca.key"), "-out",
       dir.File(name + "-ca.pem"), "-days", "1", "-subj", "/CN=" + name + " test CA"});
  run({"req", "-newkey", ec, "-nodes", "-keyout", dir.File(name + "-server.key"), "-out",
       dir.File(name + "-server.csr"), "-subj", "/CN=127.0.0.1"});
  WriteFile(dir.File("san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  run({"x509", "-req", "-in", dir.File(name + "-server.csr"), "-CA", dir.File(name + "-ca.pem"),
       "-CAkey", dir.File(name + "-ca.key"), "-CAcreateserial", "-out",
       dir.File(name + "-server.pem"), "-days", "1", "-extfile", dir.File("san.cnf")});
}

class MqttTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(MakeCertificates(dir_, "good"));
    ASSERT_NO_FATAL_FAILURE(MakeCertificates(dir_, "other"));
    tls_port_ = FreeLoopbackPort();
    broker_ = std::make_unique<MosquittoBroker>(
        dir_.path(), "listener " + std::to_string(tls_port_) + " 127.0.0.1\ncafile " +
                         dir_.File("good-ca.pem") + "\ncertfile " + dir_.File("good-server.pem") +
                         "\nkeyfile " + dir_.File("good-server.key") + "\n");
  }
  mq::MqttClientOptions TlsOptions(const std::string& ca) const {
    mq::MqttClientOptions options = broker_->ClientOptions("tls-client");
    options.port = static_cast<uint16_t>(tls_port_);
    options.tls.enabled = true;
    options.tls.ca_file = dir_.File(ca);
    return options;
  }

  TempDir dir_;
  int tls_port_ = 0;
  std::unique_ptr<MosquittoBroker> broker_;
};

TEST_F(MqttTlsTest, VerifiesTheBrokerAgainstTheCaAndItsAddressAndCarriesMessages) {
  auto client = Connected(TlsOptions("good-ca.pem"));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Subscribe({"orders/#"}, 1, 5s).ok());
  MqttTestClient publisher(*broker_, "plain-publisher");
  publisher.Publish("orders/s1", "over tls");
  auto got = ReadPublishes(*client, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "over tls");
}

TEST_F(MqttTlsTest, RefusesACertificateThatDoesNotNameTheHost) {
  mq::MqttClientOptions options = TlsOptions("good-ca.pem");
  options.host = "localhost";  // the certificate names 127.0.0.1 only
  auto client = mq::MqttClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("TLS handshake"), std::string::npos)
      << client.status().ToString();
  options.tls.verify_hostname = false;
  EXPECT_NE(Connected(options), nullptr) << "the same certificate passes without the name check";
}

TEST_F(MqttTlsTest, RefusesABrokerCertificateFromAnotherCa) {
  auto client = mq::MqttClient::Connect(TlsOptions("other-ca.pem"));
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("TLS handshake"), std::string::npos)
      << client.status().ToString();
}

}  // namespace
}  // namespace wojak::testing
