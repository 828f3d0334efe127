// The torture clients' logs: one JSON line per request sent and per answer (or failure), so the
// final check rests on what the clients actually saw, not on the driver's memory.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "common/status.h"

namespace wojak::torture {

// What a request was for. kOrder, kBreach and kDuplicate share the new-order idempotency key
// (account, client_order_id); kCancel has its own key per order.
enum class Operation : uint8_t {
  kOrder,      // a valid new order (the gate accepts it)
  kBreach,     // a new order the gate must reject (quantity not a lot multiple)
  kDuplicate,  // an order already answered, sent again unchanged
  kCancel,     // POST /v1/orders/{client_order_id}/cancel of an acknowledged order
  kForged,     // a new order signed with a wrong secret: must never get in
};

std::string_view OperationName(Operation operation);
StatusOr<Operation> ParseOperation(std::string_view name);

// One request and what came back. http_status 0: no answer (connection refused or dropped,
// timeout), so the request must be sent again.
struct Exchange {
  int client = 0;
  uint64_t operation_id = 0;  // the client's operation counter: every attempt of one operation
  uint64_t request = 0;       // the client's request counter: one per attempt
  Operation operation = Operation::kOrder;
  std::string account;
  std::string client_order_id;
  int attempt = 1;  // 1 for the first send of an operation, then 2, 3, ... for resends
  int http_status = 0;
  std::string body;  // the response body, or the transport error when http_status is 0
};

// Appends to one client's log; every line is flushed so a crash loses nothing already seen.
class ClientLogWriter {
 public:
  static StatusOr<ClientLogWriter> Open(const std::string& path);
  void Sent(const Exchange& exchange);      // {"ev":"send",...} before the request leaves
  void Answered(const Exchange& exchange);  // {"ev":"recv",...,"status":S,"body":B}

 private:
  explicit ClientLogWriter(std::ofstream out) : out_(std::move(out)) {}
  std::ofstream out_;
};

// Every answered exchange in the logs, and how many sends never got a "recv" line (a driver
// fault, reported as a violation).
struct ParsedLogs {
  std::vector<Exchange> answered;
  uint64_t sent = 0;
  uint64_t unmatched_sends = 0;
};

// Reads the given client logs; a malformed line is an error naming the file and line.
StatusOr<ParsedLogs> ReadClientLogs(const std::vector<std::string>& paths);

}  // namespace wojak::torture
