// EngineRequester: a synchronous call over the pipelined EngineClient.
#include "api/engine_requester.h"

#include "common/clock.h"

namespace wojak::api {

EngineRequester::EngineRequester(std::string endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

StatusOr<Decision> EngineRequester::Call(const Request& request) {
  std::lock_guard lock(mu_);
  if (!client_) {
    ClientOptions options;
    options.endpoint = endpoint_;
    options.max_in_flight = 16;
    options.connect_timeout = timeout_;
    auto client = EngineClient::Connect(options);
    if (!client.ok()) return client.status().WithContext("connecting to the engine");
    client_ = std::move(client).value();
  }
  WOJAK_ASSIGN_OR_RETURN(uint64_t request_id, client_->Send(request));
  const Nanos deadline = RealClock::Instance().Monotonic() +
                         std::chrono::duration_cast<std::chrono::nanoseconds>(timeout_).count();
  while (true) {
    const Nanos left = deadline - RealClock::Instance().Monotonic();
    if (left <= 0) break;
    auto replies =
        client_->Poll(std::chrono::milliseconds(std::max<Nanos>(left / kNanosPerMilli, 1)));
    if (!replies.ok()) return replies.status();
    for (Reply& reply : *replies) {
      if (reply.request_id != request_id) continue;  // a late reply to an abandoned request
      if (!reply.error.empty())
        return Internal("the engine could not decode the request: " + reply.error);
      return std::move(reply.decision);
    }
  }
  client_->Abandon(request_id);
  return Unavailable("no reply from the engine within " + std::to_string(timeout_.count()) + " ms");
}

}  // namespace wojak::api
