// HTTP POST client: URL parsing, headers and body on the wire, timeouts, dropped connections.
#include "executors/http/http_post.h"

#include <gtest/gtest.h>

#include "executors/http/fake_http_server.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpReply;
using testing::FakeHttpRequest;
using testing::FakeHttpServer;

TEST(ParseHttpUrlTest, ReadsSchemeHostPortAndTarget) {
  auto url = ParseHttpUrl("http://127.0.0.1:8080/hook?x=1");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/hook?x=1");
}

TEST(ParseHttpUrlTest, HttpsDefaultsToPort443AndRootTarget) {
  auto url = ParseHttpUrl("https://abc.lambda-url.ap-south-1.on.aws");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "abc.lambda-url.ap-south-1.on.aws");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/");
}

TEST(ParseHttpUrlTest, RefusesOtherSchemesBadPortsAndEmptyHosts) {
  EXPECT_FALSE(ParseHttpUrl("ftp://host/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://host:0/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://host:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://host:12ab/").ok());
  EXPECT_FALSE(ParseHttpUrl("http:///path").ok());
  EXPECT_FALSE(ParseHttpUrl("http://user:pw@host/").ok());
  EXPECT_FALSE(ParseHttpUrl("").ok());
}

TEST(HttpPosterTest, SendsBodyAndHeadersAndReturnsTheAnswer) {
  FakeHttpServer server([](const FakeHttpRequest&) { return FakeHttpReply{201, "{\"ok\":1}"}; });
  HttpPoster poster(*ParseHttpUrl(server.Url("/in")), {});
  auto response = poster.Post("{\"a\":1}", {{"Idempotency-Key", "K-1"}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "{\"ok\":1}");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/in");
  EXPECT_EQ(requests[0].body, "{\"a\":1}");
  EXPECT_EQ(requests[0].Header("idempotency-key"), "K-1");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
}

TEST(HttpPosterTest, ServerErrorsAreResponsesNotTransportErrors) {
  FakeHttpServer server([](const FakeHttpRequest&) { return FakeHttpReply{503, "busy"}; });
  HttpPoster poster(*ParseHttpUrl(server.Url()), {});
  auto response = poster.Post("{}", {});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_TRUE(IsRetryableHttpStatus(503));
  EXPECT_FALSE(IsRetryableHttpStatus(400));
}

TEST(HttpPosterTest, SlowServerTimesOutWithDeadlineExceeded) {
  FakeHttpServer server([](const FakeHttpRequest&) {
    FakeHttpReply reply;
    reply.delay = 5s;
    return reply;
  });
  HttpPostOptions options;
  options.timeout = 200ms;
  HttpPoster poster(*ParseHttpUrl(server.Url()), options);
  auto response = poster.Post("{}", {});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
  EXPECT_EQ(server.request_count(), 1u);  // a timed-out request is not re-sent by the client
}

TEST(HttpPosterTest, NoListenerIsUnavailable) {
  int port;
  {
    FakeHttpServer server([](const FakeHttpRequest&) { return FakeHttpReply{}; });
    port = server.port();
  }
  HttpPoster poster(*ParseHttpUrl("http://127.0.0.1:" + std::to_string(port) + "/"), {});
  auto response = poster.Post("{}", {});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
}

TEST(HttpPosterTest, DroppedKeptAliveConnectionIsRetriedOnceOnAFreshOne) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeHttpRequest&) {
    FakeHttpReply reply{200, "ok"};
    reply.drop = calls.fetch_add(1) == 1;  // the second request finds its connection dropped
    return reply;
  });
  HttpPoster poster(*ParseHttpUrl(server.Url()), {});
  ASSERT_TRUE(poster.Post("1", {}).ok());
  auto second = poster.Post("2", {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(HttpPosterTest, DroppedFreshConnectionIsAnErrorNotARetry) {
  FakeHttpServer server([](const FakeHttpRequest&) {
    FakeHttpReply reply;
    reply.drop = true;
    return reply;
  });
  HttpPoster poster(*ParseHttpUrl(server.Url()), {});
  auto response = poster.Post("{}", {});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
  EXPECT_EQ(server.request_count(), 1u);
}

}  // namespace
}  // namespace wojak
