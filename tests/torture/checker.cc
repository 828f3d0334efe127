// The torture checks: acknowledged decisions durable and unchanged, at most one decision and one
// execution per idempotency key, nothing unauthorised admitted, positions equal to the fills.
#include "checker.h"

#include <optional>
#include <set>
#include <tuple>

#include "model/order.h"

namespace wojak::torture {
namespace {

using nlohmann::json;
using Key = std::pair<std::string, std::string>;  // (account, client_order_id)

constexpr size_t kMaxViolationLines = 200;

class Verdict {
 public:
  explicit Verdict(CheckResult& result) : result_(result) {}
  void Add(uint64_t CheckCounts::*counter, const std::string& message) {
    ++(result_.counts.*counter);
    if (result_.violations.size() < kMaxViolationLines) result_.violations.push_back(message);
  }

 private:
  CheckResult& result_;
};

std::string Describe(const Key& key) { return key.first + "/" + key.second; }

// The part of a decision that must never change once told: kind, order id, seq and reasons.
json Essential(const json& decision) {
  return {{"decision", decision.value("decision", "")},
          {"order_id", decision.value("order_id", "")},
          {"seq", decision.value("seq", uint64_t{0})},
          {"reasons", decision.value("reasons", json::array())}};
}

// The first decision a 200 answer reports: the original of a DUPLICATE, else the answer itself.
std::optional<json> EffectiveDecision(const json& body) {
  if (!body.is_object() || !body.contains("decision")) return std::nullopt;
  if (body["decision"] == "DUPLICATE") {
    if (!body.contains("original") || !body["original"].is_object()) return std::nullopt;
    return Essential(body["original"]);
  }
  return Essential(body);
}

bool IsNewOrder(Operation operation) {
  return operation == Operation::kOrder || operation == Operation::kBreach ||
         operation == Operation::kDuplicate;
}

// Statuses after which the client sends the same request again.
bool IsUndecided(int status) {
  return status == 0 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

struct KeyAnswers {
  std::optional<json> decision;  // the first acknowledged one
  bool breach = false;
  bool duplicate_sent = false;
};

}  // namespace

CheckResult Check(const ParsedLogs& logs, const JournalFacts& facts) {
  CheckResult result;
  CheckCounts& counts = result.counts;
  Verdict verdict(result);

  counts.requests = logs.sent;
  if (logs.unmatched_sends > 0) {
    verdict.Add(&CheckCounts::unanswered,
                std::to_string(logs.unmatched_sends) + " request(s) sent but never logged back");
  }

  // 1. What the clients were told, per idempotency key.
  std::map<Key, KeyAnswers> orders;
  std::map<Key, KeyAnswers> cancels;
  std::set<std::string> forged_ids;
  std::map<std::pair<int, uint64_t>, bool> operations;  // (client, operation) -> answered
  for (const Exchange& e : logs.answered) {
    const Key key{e.account, e.client_order_id};
    const auto operation = std::make_pair(e.client, e.operation_id);
    operations.try_emplace(operation, false);
    if (e.attempt > 1) ++counts.resends;
    if (e.operation == Operation::kForged) {
      forged_ids.insert(e.client_order_id);
      if (e.http_status == 200) {
        verdict.Add(&CheckCounts::unauthorised,
                    "forged order " + Describe(key) + " was answered 200: " + e.body);
      } else if (e.http_status == 401) {
        operations[operation] = true;
      } else if (!IsUndecided(e.http_status)) {
        verdict.Add(&CheckCounts::unexpected_answers,
                    "forged order " + Describe(key) + " got HTTP " + std::to_string(e.http_status));
      }
      continue;
    }
    KeyAnswers& answers = IsNewOrder(e.operation) ? orders[key] : cancels[key];
    answers.breach |= e.operation == Operation::kBreach;
    answers.duplicate_sent |= e.operation == Operation::kDuplicate;
    if (IsUndecided(e.http_status)) continue;
    if (e.http_status != 200) {
      verdict.Add(&CheckCounts::unexpected_answers,
                  std::string(OperationName(e.operation)) + " " + Describe(key) + " got HTTP " +
                      std::to_string(e.http_status) + ": " + e.body);
      continue;
    }
    const json body = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
    std::optional<json> decision = EffectiveDecision(body);
    if (!decision) {
      verdict.Add(&CheckCounts::unexpected_answers,
                  "unreadable decision for " + Describe(key) + ": " + e.body);
      continue;
    }
    operations[operation] = true;
    if (e.operation == Operation::kDuplicate && body["decision"] != "DUPLICATE") {
      verdict.Add(&CheckCounts::double_decided,
                  "resent order " + Describe(key) + " was decided again: " + e.body);
    }
    if (!answers.decision) {
      answers.decision = std::move(decision);
    } else if (*answers.decision != *decision) {
      verdict.Add(&CheckCounts::changed, "decision for " + Describe(key) + " changed from " +
                                             answers.decision->dump() + " to " + decision->dump());
    }
  }
  counts.orders = orders.size();
  counts.cancels = cancels.size();
  counts.forged = forged_ids.size();
  for (const auto& [operation, answered] : operations) {
    if (!answered) {
      verdict.Add(&CheckCounts::unanswered, "client " + std::to_string(operation.first) +
                                                " operation " + std::to_string(operation.second) +
                                                " never got a decision");
    }
  }

  // 2. The journal: seqs 1..N, a readable chain, one decision per key, one execution per order.
  if (!facts.verify_ok) {
    verdict.Add(&CheckCounts::journal_damage, "wojak verify failed: " + facts.verify_detail);
  }
  if (!facts.replay_ok) {
    verdict.Add(&CheckCounts::journal_damage, "wojak replay failed: " + facts.replay_detail);
  }
  const uint64_t last_seq = facts.entries.empty() ? 0 : facts.entries.rbegin()->first;
  if (last_seq != facts.entries.size()) {
    verdict.Add(&CheckCounts::journal_damage, "journal seqs are not 1.." +
                                                  std::to_string(facts.entries.size()) + " (last " +
                                                  std::to_string(last_seq) + ")");
  }
  if (facts.replay_ok && facts.replay_entries != facts.entries.size()) {
    verdict.Add(&CheckCounts::journal_damage, "replay saw " + std::to_string(facts.replay_entries) +
                                                  " entries, the journal has " +
                                                  std::to_string(facts.entries.size()));
  }
  std::map<std::tuple<EntryKind, std::string, std::string>, uint64_t> per_key;
  for (const auto& [seq, entry] : facts.entries) {
    const auto key = std::make_tuple(entry.kind, entry.account, entry.client_order_id);
    const uint64_t count = ++per_key[key];
    if (count != 2) continue;  // report each key once
    const std::string what = Describe({entry.account, entry.client_order_id});
    if (entry.kind == EntryKind::kNewOrder) {
      verdict.Add(&CheckCounts::double_decided, "order " + what + " decided twice (seq " +
                                                    std::to_string(seq) + " is the second)");
    } else if (entry.kind == EntryKind::kCancel) {
      verdict.Add(&CheckCounts::double_decided, "cancel of " + what + " decided twice (seq " +
                                                    std::to_string(seq) + " is the second)");
    } else if (entry.kind == EntryKind::kExecution) {
      verdict.Add(&CheckCounts::double_executed, "order " + what + " executed twice (seq " +
                                                     std::to_string(seq) + " is the second)");
    }
  }
  for (const auto& [seq, entry] : facts.entries) {
    if (forged_ids.count(entry.client_order_id) > 0) {
      verdict.Add(&CheckCounts::unauthorised, "forged order " + entry.client_order_id +
                                                  " reached the journal at seq " +
                                                  std::to_string(seq));
    }
  }

  // 3. Every acknowledged decision is in the journal and in the order projection, unchanged.
  std::map<Key, const json*> order_rows;
  std::map<std::string, const json*> order_by_id;
  for (const json& row : facts.orders) {
    const Key key{row.value("account", ""), row.value("client_order_id", "")};
    if (!order_rows.emplace(key, &row).second) {
      verdict.Add(&CheckCounts::double_decided, "two order rows for " + Describe(key));
    }
    order_by_id[row.value("order_id", "")] = &row;
    if (orders.count(key) == 0) {
      verdict.Add(&CheckCounts::unauthorised,
                  "order row " + Describe(key) + " matches no order any client sent");
    }
  }
  auto journal_has = [&](const json& decision, EntryKind kind, const Key& key) {
    auto entry = facts.entries.find(decision["seq"].get<uint64_t>());
    return entry != facts.entries.end() && entry->second.kind == kind &&
           entry->second.account == key.first && entry->second.client_order_id == key.second;
  };
  for (const auto& [key, answers] : orders) {
    if (!answers.decision) continue;
    ++counts.acked;
    const json& decision = *answers.decision;
    if (answers.breach && decision["decision"] != "REJECTED") {
      verdict.Add(&CheckCounts::unauthorised,
                  "breaching order " + Describe(key) + " was not rejected: " + decision.dump());
    }
    if (!journal_has(decision, EntryKind::kNewOrder, key)) {
      verdict.Add(&CheckCounts::lost, "acknowledged order " + Describe(key) + " " +
                                          decision.dump() + " is not its journal entry");
      continue;
    }
    auto row = order_rows.find(key);
    if (row == order_rows.end()) {
      verdict.Add(&CheckCounts::lost,
                  "acknowledged order " + Describe(key) + " has no row in wojak orders");
      continue;
    }
    const json stored = Essential(row->second->value("decision", json::object()));
    if (stored != decision) {
      verdict.Add(&CheckCounts::changed, "order " + Describe(key) + " was acknowledged as " +
                                             decision.dump() + " but is stored as " +
                                             stored.dump());
    }
  }
  for (const auto& [key, answers] : cancels) {
    if (!answers.decision) continue;
    ++counts.acked;
    const json& decision = *answers.decision;
    if (!journal_has(decision, EntryKind::kCancel, key)) {
      verdict.Add(&CheckCounts::lost, "acknowledged cancel of " + Describe(key) + " " +
                                          decision.dump() + " is not its journal entry");
      continue;
    }
    auto row = order_rows.find(key);
    if (decision["decision"] == "ACCEPTED" &&
        (row == order_rows.end() || row->second->value("status", "") != "CANCELLED")) {
      verdict.Add(&CheckCounts::lost,
                  "accepted cancel of " + Describe(key) + " but the order is not CANCELLED");
    }
  }

  // 4. Executions: at most one trade per order, never more than ordered, none after a cancel,
  // and every accepted order eventually executed or failed (reconciliation after a kill).
  std::map<std::string, uint64_t> trades_per_order;
  std::map<Key, std::tuple<int64_t, int64_t>> traded;  // (account, symbol) -> (bought, sold)
  for (const json& trade : facts.trades) {
    const std::string order_id = trade.value("order_id", "");
    if (++trades_per_order[order_id] == 2) {
      verdict.Add(&CheckCounts::double_executed, "order " + order_id + " has two trades");
    }
    auto& [bought, sold] = traded[{trade.value("account", ""), trade.value("symbol", "")}];
    (trade.value("side", "") == "BUY" ? bought : sold) += trade.value("quantity", int64_t{0});
    auto order = order_by_id.find(order_id);
    if (order == order_by_id.end()) {
      verdict.Add(&CheckCounts::unauthorised, "trade for unknown order " + order_id);
    } else if (order->second->value("status", "") == "CANCELLED") {
      verdict.Add(&CheckCounts::double_executed, "cancelled order " + order_id + " has a trade");
    }
  }
  counts.filled = trades_per_order.size();
  for (const json& row : facts.orders) {
    if (row.value("filled_quantity", int64_t{0}) > row.value("quantity", int64_t{0})) {
      verdict.Add(&CheckCounts::double_executed,
                  "order " + row.value("order_id", "") + " filled beyond its quantity");
    }
    std::optional<OrderState> state = ParseOrderState(row.value("status", ""));
    if (!state || !IsTerminal(*state)) {
      verdict.Add(&CheckCounts::unexecuted, "order " + row.value("order_id", "") + " is still " +
                                                row.value("status", "") +
                                                " after the executor settled");
    }
  }

  // 5. Positions are the sum of the fills.
  std::set<Key> seen_positions;
  for (const json& position : facts.positions) {
    const Key key{position.value("account", ""), position.value("symbol", "")};
    seen_positions.insert(key);
    const auto [bought, sold] = traded.count(key) ? traded[key] : std::tuple<int64_t, int64_t>{};
    if (position.value("buy_quantity", int64_t{0}) != bought ||
        position.value("sell_quantity", int64_t{0}) != sold ||
        position.value("net_quantity", int64_t{0}) != bought - sold) {
      verdict.Add(&CheckCounts::position_mismatches,
                  "position " + Describe(key) + " is " + position.dump() +
                      " but the trades sum to " + std::to_string(bought) + " bought, " +
                      std::to_string(sold) + " sold");
    }
  }
  for (const auto& [key, totals] : traded) {
    if (seen_positions.count(key) == 0) {
      verdict.Add(&CheckCounts::position_mismatches,
                  "trades for " + Describe(key) + " but no position row");
    }
  }
  return result;
}

}  // namespace wojak::torture
