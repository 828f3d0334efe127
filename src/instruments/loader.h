// Loads the Kite-style instruments CSV and the exchange freeze-limit file into an InstrumentTable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "instruments/instrument_table.h"
#include "model/instrument.h"

namespace wojak {

// At most this many row errors are listed in one Status; the rest are counted.
inline constexpr size_t kMaxReportedRowErrors = 100;

// Freeze quantity (units) per underlying symbol.
using FreezeLimits = std::unordered_map<std::string, Qty>;

// Parses the instruments CSV (columns named by its header, in any order; extra columns ignored).
// Rows of exchanges other than NFO (the unfiltered Kite master has NSE, BSE, MCX, ...) are skipped:
// the gate trades NSE F&O only. Every malformed row is reported as
// "<source> line N, column 'strike': 'abc' is not a decimal number" in one INVALID_ARGUMENT.
StatusOr<std::vector<Instrument>> ParseInstrumentsCsv(std::string_view text,
                                                      std::string_view source = "instruments");

// Parses "SYMBOL,VOL_FRZ_QTY" with a header line (columns found by name; other columns, such as
// the exchange file's serial number, ignored). Every malformed row is reported.
StatusOr<FreezeLimits> ParseFreezeLimits(std::string_view text,
                                         std::string_view source = "freeze limits");

// Parses both texts, sets each contract's freeze quantity from its underlying, and indexes.
StatusOr<std::shared_ptr<const InstrumentTable>> BuildInstrumentTable(
    std::string_view instruments_csv, std::string_view freeze_csv,
    std::string_view instruments_source = "instruments",
    std::string_view freeze_source = "freeze limits");

// Reads both files and builds the table. Errors name the file.
StatusOr<std::shared_ptr<const InstrumentTable>> LoadInstrumentTable(
    const std::string& csv_path, const std::string& freeze_path);

}  // namespace wojak
