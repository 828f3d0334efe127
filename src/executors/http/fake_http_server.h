// A tiny HTTP/1.1 server on 127.0.0.1 (free port) for tests of HTTP clients: a handler decides
// each answer — status and body, a delay before answering (to provoke timeouts), or dropping the
// connection — and every request is recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wojak::testing {

struct FakeHttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string Header(const std::string& lowercase_name) const;
};

struct FakeHttpReply {
  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool drop = false;                   // close the connection without answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeHttpReply(const FakeHttpRequest&)>;

  // Binds 127.0.0.1:0 and starts serving; the handler may be called from several threads.
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/") const;
  // Every request received so far (including ones that were then dropped or delayed).
  std::vector<FakeHttpRequest> requests() const;
  size_t request_count() const;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd);
  // Reads one request from the connection and answers it; false when the connection is done.
  bool ServeOne(int fd, std::string& buffer);
  // Sleeps up to `delay`; false when the server stopped meanwhile.
  bool Sleep(std::chrono::milliseconds delay);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable stopped_;
  std::vector<FakeHttpRequest> requests_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace wojak::testing
