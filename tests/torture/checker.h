// The torture run's verdict: what the clients were told (their logs) against what the journal and
// its projections hold after every kill. Pure: no processes, so its rules are unit tested.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client_log.h"
#include "journal/journal.h"

namespace wojak::torture {

struct EntryFact {
  EntryKind kind = EntryKind::kNewOrder;
  std::string account;
  std::string client_order_id;
};

// What the data directory holds once the engine has stopped.
struct JournalFacts {
  std::map<uint64_t, EntryFact> entries;  // every journal entry, by seq (read with chain checks)
  bool verify_ok = false;                 // `wojak verify --data` (hash chain, integrity)
  std::string verify_detail;
  bool replay_ok = false;  // `wojak replay --data --json`
  uint64_t replay_entries = 0;
  std::string replay_detail;
  nlohmann::json orders = nlohmann::json::array();     // `wojak orders --json`
  nlohmann::json trades = nlohmann::json::array();     // `wojak trades --json`
  nlohmann::json positions = nlohmann::json::array();  // `wojak positions --json`
};

// Every figure is a count; the ones after `acked` are violations and must all be zero.
struct CheckCounts {
  uint64_t orders = 0;    // distinct new orders (account, client_order_id) sent
  uint64_t cancels = 0;   // distinct cancels sent
  uint64_t forged = 0;    // orders sent with a forged signature
  uint64_t requests = 0;  // HTTP requests sent, resends included
  uint64_t resends = 0;   // requests that were a resend of an unanswered one
  uint64_t acked = 0;     // operations that got a decision (HTTP 200)
  uint64_t filled = 0;    // orders with a trade

  uint64_t lost = 0;                 // acknowledged, but missing from the journal or projections
  uint64_t changed = 0;              // acknowledged differently twice, or stored differently
  uint64_t double_decided = 0;       // one idempotency key decided by two journal entries
  uint64_t double_executed = 0;      // more than one execution/trade, or overfilled
  uint64_t unauthorised = 0;         // forged or breaching order admitted, or an unknown order
  uint64_t unanswered = 0;           // an operation never answered, or a send never logged back
  uint64_t unexecuted = 0;           // accepted order left without an executor result
  uint64_t position_mismatches = 0;  // positions differ from the sum of the trades
  uint64_t unexpected_answers = 0;   // an HTTP status the operation cannot legitimately get
  uint64_t journal_damage = 0;       // verify or replay failed, or seqs are not 1..N
};

struct CheckResult {
  CheckCounts counts;
  std::vector<std::string> violations;  // one line per violation (the first few hundred)
  bool ok() const { return violations.empty(); }
};

CheckResult Check(const ParsedLogs& logs, const JournalFacts& facts);

}  // namespace wojak::torture
