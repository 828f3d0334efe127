// Helpers shared by the journal's tests: a self-deleting temp directory and sample entries/rows.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace wojak::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "wojak-journal-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The payload of entry `seq`: a marker a test can find in the raw file, padded to `size` bytes.
inline std::string SamplePayload(Seq seq, size_t size = 64) {
  std::string payload = "PAYLOAD-" + std::to_string(seq) + "-";
  payload.resize(std::max(size, payload.size()), static_cast<char>('a' + seq % 26));
  return payload;
}

// `count` new-order entries with consecutive seqs starting at `first`.
inline std::vector<Entry> SampleEntries(Seq first, size_t count, size_t payload_size = 64) {
  std::vector<Entry> entries(count);
  for (size_t i = 0; i < count; ++i) {
    Entry& entry = entries[i];
    entry.seq = first + i;
    entry.time_ns = 1'700'000'000'000'000'000 + static_cast<Nanos>(entry.seq) * 1000;
    entry.kind = EntryKind::kNewOrder;
    entry.account = "ACC" + std::to_string(entry.seq % 3);
    entry.client_order_id = "s1-" + std::to_string(entry.seq);
    entry.payload = SamplePayload(entry.seq, payload_size);
  }
  return entries;
}

// The order row an entry with this seq would create.
inline OrderRow SampleOrder(Seq seq, std::string account = "ACC1",
                            std::string status = "ACCEPTED") {
  OrderRow order;
  order.order_id = "W-" + std::to_string(seq);
  order.seq = seq;
  order.last_seq = seq;
  order.account = std::move(account);
  order.strategy = "straddle";
  order.client_order_id = "s1-" + std::to_string(seq);
  order.symbol = "NIFTY26JAN24000CE";
  order.side = "SELL";
  order.order_type = "LIMIT";
  order.product = "NRML";
  order.validity = "DAY";
  order.quantity = 75;
  order.price_paise = 12050;
  order.status = std::move(status);
  order.decision_json = R"({"decision":"ACCEPTED"})";
  order.created_ns = 1000 + static_cast<Nanos>(seq);
  order.updated_ns = order.created_ns;
  return order;
}

}  // namespace wojak::testing
