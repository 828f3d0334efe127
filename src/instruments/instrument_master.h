// The live instrument master: an immutable table swapped atomically on reload.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "instruments/instrument_table.h"

namespace wojak {

// Readers take a snapshot (a shared_ptr) and keep using it for as long as they need consistent
// answers, e.g. one sequencer batch; a reload never changes a snapshot already taken.
class InstrumentMaster {
 public:
  explicit InstrumentMaster(
      std::shared_ptr<const InstrumentTable> table = InstrumentTable::Empty());

  static StatusOr<std::unique_ptr<InstrumentMaster>> Load(const std::string& csv_path,
                                                          const std::string& freeze_path);

  // Validates both files completely, then swaps. On any error the current table stays.
  Status Reload(const std::string& csv_path, const std::string& freeze_path);
  // Swaps in an already built table.
  void Replace(std::shared_ptr<const InstrumentTable> table);

  std::shared_ptr<const InstrumentTable> Snapshot() const;
  // Increments on every successful swap; 0 for the initial table.
  uint64_t version() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const InstrumentTable> table_;
  uint64_t version_ = 0;
};

}  // namespace wojak
