// The query/admin REST API server: Boost.Beast over plain HTTP/1.1 with keep-alive, on its own
// I/O threads inside the engine process. Reads go to read-only SQLite connections and the
// engine's published views, so nothing here can slow the order path.
#pragma once

#include <cstdint>
#include <memory>

#include "api/api_options.h"
#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"

namespace wojak::api {

class ApiServer {
 public:
  // Opens read connections to `engine`'s journal, binds options.listen and starts serving.
  // `clock` drives the rate limiter.
  static StatusOr<std::unique_ptr<ApiServer>> Start(const ApiOptions& options, Engine& engine,
                                                    const Clock& clock = RealClock::Instance());
  ~ApiServer();  // Stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port (the chosen one when options.listen had port 0).
  uint16_t port() const;
  // Closes the listener and every connection and joins the I/O threads. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wojak::api
