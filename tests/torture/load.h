// The torture load: client threads sending a seeded mix of new orders, breaching orders,
// duplicates, cancels and forged orders over kept-alive HTTP, each operation resent until it gets
// an answer, every request and answer logged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace wojak::torture {

struct LoadOptions {
  int clients = 4;
  uint64_t seed = 1;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string key_id;  // the sidecar's HMAC key
  std::string secret;
  std::string symbol;  // an unexpired future and a price inside its band
  std::string price;
  int64_t lot_size = 75;
  int64_t tick_paise = 10;
  std::string log_dir;  // client-<n>.jsonl are written here
  // A request unanswered this long counts as lost in transit and is sent again.
  std::chrono::milliseconds request_timeout{15000};
  // Pause before resending an unanswered request (plus up to as much again, random).
  std::chrono::milliseconds resend_delay{20};
  // Share of operations, in percent, per kind; new orders take the rest.
  int breach_percent = 10;
  int duplicate_percent = 10;
  int cancel_percent = 15;
  int forged_percent = 5;
};

class Load {
 public:
  explicit Load(LoadOptions options);
  ~Load();  // Abort() and join
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  void Start();
  // Clients finish the operation in hand (resending until answered), then stop.
  void RequestStop();
  // Clients give up at once, leaving operations unanswered (the check reports them).
  void Abort();
  // True when every client has stopped within the timeout.
  bool Join(std::chrono::milliseconds timeout);

  uint64_t operations() const { return operations_.load(std::memory_order_relaxed); }
  std::vector<std::string> log_paths() const;

 private:
  void RunClient(int client);

  const LoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  std::atomic<uint64_t> operations_{0};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
};

}  // namespace wojak::torture
