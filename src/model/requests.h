// Everything a client can ask the engine, besides a new order (model/order.h).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "model/order.h"

namespace wojak {

struct CancelRequest {
  std::string account;
  std::string client_order_id;  // of the order to cancel
  bool operator==(const CancelRequest&) const = default;
};

// Changes an open order's quantity and/or prices; the modified order is checked by the risk gate
// as a whole again.
struct ModifyRequest {
  std::string account;
  std::string client_order_id;
  std::optional<Qty> quantity;
  std::optional<Paise> price;
  std::optional<Paise> trigger_price;
  bool operator==(const ModifyRequest&) const = default;
};

// The heavy RMS's answer to an ESCALATED order.
struct EscalationVerdict {
  std::string order_id;  // "W-..."
  bool approve = false;
  std::string reason;  // why the RMS rejected; recorded as RMS_REJECTED's message
  bool operator==(const EscalationVerdict&) const = default;
};

enum class AdminAction : uint8_t { kHalt, kResume, kReduceOnly };
enum class AdminScope : uint8_t { kGlobal, kAccount, kStrategy };

struct AdminRequest {
  AdminAction action = AdminAction::kHalt;
  AdminScope scope = AdminScope::kGlobal;
  std::string target;  // account or strategy name; empty for global
  bool operator==(const AdminRequest&) const = default;
};

struct PingRequest {
  bool operator==(const PingRequest&) const = default;
};

enum class ExecutionStatus : uint8_t { kFilled, kPartiallyFilled, kFailed };

// An executor's result for one accepted order; it enters the sequencer like any request and is
// journaled before positions change.
struct ExecutionReport {
  std::string order_id;
  ExecutionStatus status = ExecutionStatus::kFailed;
  Qty filled_quantity = 0;  // this report's fill (not cumulative)
  Paise fill_price;
  std::string reason;    // why it failed
  std::string executor;  // "sandbox", "http", "paper"
  bool operator==(const ExecutionReport&) const = default;
};

using Request =
    std::variant<OrderRequest, CancelRequest, ModifyRequest, EscalationVerdict, AdminRequest, PingRequest>;

}  // namespace wojak
