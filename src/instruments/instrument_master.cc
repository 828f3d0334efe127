// Snapshot/swap of the instrument table.
#include "instruments/instrument_master.h"

#include <utility>

#include "instruments/loader.h"

namespace wojak {

InstrumentMaster::InstrumentMaster(std::shared_ptr<const InstrumentTable> table)
    : table_(std::move(table)) {}

StatusOr<std::unique_ptr<InstrumentMaster>> InstrumentMaster::Load(const std::string& csv_path,
                                                                   const std::string& freeze_path) {
  WOJAK_ASSIGN_OR_RETURN(auto table, LoadInstrumentTable(csv_path, freeze_path));
  return std::make_unique<InstrumentMaster>(std::move(table));
}

Status InstrumentMaster::Reload(const std::string& csv_path, const std::string& freeze_path) {
  auto table = LoadInstrumentTable(csv_path, freeze_path);
  if (!table.ok()) return table.status().WithContext("instrument reload kept the current master");
  Replace(std::move(table).value());
  return OkStatus();
}

void InstrumentMaster::Replace(std::shared_ptr<const InstrumentTable> table) {
  std::shared_ptr<const InstrumentTable> previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    previous = std::exchange(table_, std::move(table));
    ++version_;
  }
  // `previous` may be the last reference: free the old table outside the lock.
}

std::shared_ptr<const InstrumentTable> InstrumentMaster::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_;
}

uint64_t InstrumentMaster::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

}  // namespace wojak
