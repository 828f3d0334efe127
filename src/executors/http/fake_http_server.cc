// Raw-socket HTTP/1.1 test server: one thread accepts, one thread per connection.
#include "executors/http/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace wojak::testing {
namespace {

constexpr int kPollMillis = 20;

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string FakeHttpRequest::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    close(listen_fd_);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() { Stop(); }

std::string FakeHttpServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<FakeHttpRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t FakeHttpServer::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

void FakeHttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  stopped_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  close(listen_fd_);
}

bool FakeHttpServer::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !stopped_.wait_for(lock, delay, [&] { return stopping_.load(); });
}

void FakeHttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kPollMillis) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    connections_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buffer;
  while (!stopping_ && ServeOne(fd, buffer)) {
  }
  std::lock_guard lock(mutex_);
  shutdown(fd, SHUT_RDWR);
  close(fd);
  connections_.erase(std::remove(connections_.begin(), connections_.end(), fd), connections_.end());
}

bool FakeHttpServer::ServeOne(int fd, std::string& buffer) {
  char chunk[4096];
  // Reads more bytes into `buffer`; false on EOF, error or stop.
  auto read_more = [&] {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, kPollMillis) <= 0) continue;
      ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return false;
  }
  FakeHttpRequest request;
  std::string head = buffer.substr(0, header_end);
  buffer.erase(0, header_end + 4);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t space1 = request_line.find(' ');
  size_t space2 = request_line.find(' ', space1 + 1);
  request.method = request_line.substr(0, space1);
  request.target = request_line.substr(space1 + 1, space2 - space1 - 1);
  size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    size_t end = head.find("\r\n", position);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(position, end - position);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      request.headers[Lowercase(line.substr(0, colon))] = Trim(line.substr(colon + 1));
    }
    position = end + 2;
  }
  size_t length = std::strtoul(request.Header("content-length").c_str(), nullptr, 10);
  while (buffer.size() < length) {
    if (!read_more()) return false;
  }
  request.body = buffer.substr(0, length);
  buffer.erase(0, length);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  FakeHttpReply reply = handler_(request);
  if (reply.delay.count() > 0 && !Sleep(reply.delay)) return false;
  if (reply.drop) return false;
  std::string response = "HTTP/1.1 " + std::to_string(reply.status) +
                         " Fake\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
  return SendAll(fd, response);
}

}  // namespace wojak::testing
