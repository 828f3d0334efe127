// Small RAII and error helpers over the libzmq C API, shared by the client and the server.
#pragma once

#include <zmq.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wojak::zmq_util {

// "zmq_bind(ipc:///x): Permission denied"
inline Status ZmqError(std::string_view what, int error = errno) {
  return Unavailable(std::string(what) + ": " + zmq_strerror(error));
}

inline Status SetInt(void* socket, int option, int value, std::string_view name) {
  if (zmq_setsockopt(socket, option, &value, sizeof(value)) != 0) {
    return ZmqError("zmq_setsockopt(" + std::string(name) + ")");
  }
  return OkStatus();
}

inline Status SetString(void* socket, int option, std::string_view value, std::string_view name) {
  if (zmq_setsockopt(socket, option, value.data(), value.size()) != 0) {
    return ZmqError("zmq_setsockopt(" + std::string(name) + ")");
  }
  return OkStatus();
}

// A Z85-encoded CURVE key is exactly 40 characters.
inline Status CheckCurveKey(std::string_view key, std::string_view name) {
  if (key.size() != 40) {
    return InvalidArgument(std::string(name) + " must be a 40-character Z85 CURVE key (got " +
                           std::to_string(key.size()) + " characters)");
  }
  return OkStatus();
}

// Owns one zmq_msg_t.
class Message {
 public:
  Message() { zmq_msg_init(&msg_); }
  ~Message() { zmq_msg_close(&msg_); }
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  zmq_msg_t* get() { return &msg_; }
  std::string_view view() {
    return {static_cast<const char*>(zmq_msg_data(&msg_)), zmq_msg_size(&msg_)};
  }
  bool more() { return zmq_msg_more(&msg_) != 0; }

 private:
  zmq_msg_t msg_;
};

}  // namespace wojak::zmq_util
