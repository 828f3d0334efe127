// Turns a source message into an engine request: strict parsing, account scope, and the
// client_order_id derived from the broker's message identity when the sender gave none.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "model/requests.h"
#include "sidecar/source.h"

namespace wojak::sidecar {

struct BuiltRequest {
  Request request;  // OrderRequest or CancelRequest
  std::string account;
  std::string client_order_id;
};

// A request, or why the message can never become one (to be dead-lettered).
using BuildResult = std::variant<BuiltRequest, DeadLetterInfo>;

BuildResult BuildRequest(std::string_view source_name, const Message& message);

// "d-" + the first 22 hex digits of SHA-256(source_name "\n" identity): the same broker message
// always maps to the same idempotency key, different sources never collide, and it stays well
// inside the 64-character id limit.
std::string DeriveClientOrderId(std::string_view source_name, std::string_view identity);

// {"account":"A","client_order_id":"X"}: the body of a kCancel message.
std::string CancelBody(std::string_view account, std::string_view client_order_id);

}  // namespace wojak::sidecar
