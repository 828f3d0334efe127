// An immutable, indexed set of NFO contracts: lookups by trading symbol or token never allocate.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "model/instrument.h"

namespace wojak {

class InstrumentTable {
 public:
  // Indexes `instruments` and links every contract to its underlying future
  // (Instrument::underlying_token). Fails on a duplicate trading symbol or instrument token.
  static StatusOr<std::shared_ptr<const InstrumentTable>> Create(
      std::vector<Instrument> instruments);
  static std::shared_ptr<const InstrumentTable> Empty();

  InstrumentTable(const InstrumentTable&) = delete;
  InstrumentTable& operator=(const InstrumentTable&) = delete;

  // nullptr when the symbol is not in the master.
  const Instrument* FindBySymbol(std::string_view tradingsymbol) const;
  const Instrument* FindByToken(int64_t instrument_token) const;

  const std::vector<Instrument>& instruments() const { return instruments_; }
  size_t size() const { return instruments_.size(); }

 private:
  InstrumentTable() = default;
  // Keys view the symbols stored in instruments_, which never moves after construction.
  std::vector<Instrument> instruments_;
  std::unordered_map<std::string_view, uint32_t> by_symbol_;
  std::unordered_map<int64_t, uint32_t> by_token_;
};

}  // namespace wojak
