// Row-by-row validation of the instrument master and freeze files, reporting every bad row.
#include "instruments/loader.h"

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>

#include "instruments/csv.h"

namespace wojak {
namespace {

// Collects row errors, listing the first kMaxReportedRowErrors and counting the rest.
class RowErrors {
 public:
  explicit RowErrors(std::string_view source) : source_(source) {}

  void Add(size_t line, std::string_view column, std::string message) {
    ++count_;
    if (count_ > kMaxReportedRowErrors) return;
    text_ += std::string(source_) + " line " + std::to_string(line);
    if (!column.empty()) text_ += ", column '" + std::string(column) + "'";
    text_ += ": " + message + "\n";
  }
  bool empty() const { return count_ == 0; }
  Status ToStatus() const {
    std::string text = text_;
    if (count_ > kMaxReportedRowErrors) {
      text += "... and " + std::to_string(count_ - kMaxReportedRowErrors) + " more errors\n";
    }
    text.pop_back();
    return InvalidArgument(std::move(text));
  }

 private:
  std::string_view source_;
  std::string text_;
  size_t count_ = 0;
};

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

enum Column : size_t {
  kToken,
  kExchangeToken,
  kSymbol,
  kName,
  kLastPrice,
  kExpiry,
  kStrike,
  kTickSize,
  kLotSize,
  kType,
  kSegment,
  kExchange,
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "instrument_token", "exchange_token",  "tradingsymbol", "name",
    "last_price",       "expiry",          "strike",        "tick_size",
    "lot_size",         "instrument_type", "segment",       "exchange"};

// Finds each wanted column in the header; reports the missing ones.
template <size_t N>
Status MapHeader(std::string_view header_line, const std::array<std::string_view, N>& wanted,
                 std::string_view source, std::array<size_t, N>& index, size_t& field_count) {
  std::vector<std::string> header;
  Status split = SplitCsvLine(header_line, header);
  if (!split.ok()) {
    return InvalidArgument(std::string(source) + " line 1 (header): " + split.message());
  }
  field_count = header.size();
  std::string missing;
  for (size_t c = 0; c < N; ++c) {
    index[c] = SIZE_MAX;
    for (size_t h = 0; h < header.size(); ++h) {
      if (header[h] == wanted[c]) index[c] = h;
    }
    if (index[c] == SIZE_MAX) missing += (missing.empty() ? "" : ", ") + std::string(wanted[c]);
  }
  if (!missing.empty()) {
    return InvalidArgument(std::string(source) + " line 1 (header): missing column(s) " + missing);
  }
  return OkStatus();
}

bool IsBlank(std::string_view line) { return TrimSpaces(line).empty(); }

// Parses a non-negative money column; reports and returns nullopt when malformed.
std::optional<Paise> MoneyColumn(const std::vector<std::string>& fields, size_t index,
                                 Column column, size_t line, RowErrors& errors) {
  const std::string& text = fields[index];
  if (text.empty()) return Paise();
  auto parsed = Paise::Parse(text);
  if (!parsed.ok()) {
    errors.Add(line, kColumnNames[column], parsed.status().message());
    return std::nullopt;
  }
  if (*parsed < Paise()) {
    errors.Add(line, kColumnNames[column], "'" + text + "' must not be negative");
    return std::nullopt;
  }
  return *parsed;
}

std::optional<int64_t> IntegerColumn(const std::vector<std::string>& fields, size_t index,
                                     Column column, size_t line, RowErrors& errors, int64_t min) {
  auto value = ParseInteger(fields[index]);
  if (!value) {
    errors.Add(line, kColumnNames[column], "'" + fields[index] + "' is not an integer");
    return std::nullopt;
  }
  if (*value < min) {
    errors.Add(line, kColumnNames[column],
               "'" + fields[index] + "' must be at least " + std::to_string(min));
    return std::nullopt;
  }
  return value;
}

// Validates one NFO row into `out`; false (with errors recorded) when anything is wrong.
bool ParseRow(const std::vector<std::string>& fields, const std::array<size_t, kColumnCount>& at,
              size_t line, RowErrors& errors, Instrument& out) {
  bool ok = true;
  auto token = IntegerColumn(fields, at[kToken], kToken, line, errors, 1);
  auto exchange_token = IntegerColumn(fields, at[kExchangeToken], kExchangeToken, line, errors, 0);
  auto lot = IntegerColumn(fields, at[kLotSize], kLotSize, line, errors, 1);
  auto last_price = MoneyColumn(fields, at[kLastPrice], kLastPrice, line, errors);
  auto strike = MoneyColumn(fields, at[kStrike], kStrike, line, errors);
  auto tick = MoneyColumn(fields, at[kTickSize], kTickSize, line, errors);
  ok = token && exchange_token && lot && last_price && strike && tick;
  if (tick && *tick <= Paise()) {
    errors.Add(line, "tick_size", "'" + fields[at[kTickSize]] + "' must be positive");
    ok = false;
  }
  const std::string& symbol = fields[at[kSymbol]];
  if (symbol.empty()) {
    errors.Add(line, "tradingsymbol", "must not be empty");
    ok = false;
  }
  const std::string& name = fields[at[kName]];
  if (name.empty()) {
    errors.Add(line, "name", "must not be empty (it names the underlying)");
    ok = false;
  }
  auto expiry = ParseIsoDate(fields[at[kExpiry]]);
  if (!expiry) {
    errors.Add(line, "expiry", "'" + fields[at[kExpiry]] + "' is not a date (YYYY-MM-DD)");
    ok = false;
  }
  auto type = ParseInstrumentType(fields[at[kType]]);
  Segment segment = ParseSegment(fields[at[kSegment]]);
  if (segment == Segment::kOther) {
    errors.Add(line, "segment", "'" + fields[at[kSegment]] + "' is not NFO-OPT or NFO-FUT");
    ok = false;
  }
  bool option = type == InstrumentType::kCall || type == InstrumentType::kPut;
  if (!type || (segment == Segment::kNfoOptions && !option) ||
      (segment == Segment::kNfoFutures && type != InstrumentType::kFuture)) {
    errors.Add(line, "instrument_type",
               "'" + fields[at[kType]] + "' does not fit segment " + fields[at[kSegment]] +
                   " (NFO-OPT takes CE or PE, NFO-FUT takes FUT)");
    ok = false;
  }
  if (option && strike && *strike <= Paise()) {
    errors.Add(line, "strike", "an option needs a positive strike");
    ok = false;
  }
  if (!ok) return false;
  out.instrument_token = *token;
  out.exchange_token = *exchange_token;
  out.tradingsymbol = symbol;
  out.name = name;
  out.last_price = *last_price;
  out.expiry = *expiry;
  out.strike = *strike;
  out.tick_size = *tick;
  out.lot_size = *lot;
  out.instrument_type = *type;
  out.segment = segment;
  out.segment_name = fields[at[kSegment]];
  out.exchange = fields[at[kExchange]];
  return true;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return IoError("cannot read " + path);
  return buffer.str();
}

}  // namespace

StatusOr<std::vector<Instrument>> ParseInstrumentsCsv(std::string_view text,
                                                      std::string_view source) {
  std::vector<std::string_view> lines = SplitLines(text);
  if (lines.empty() || IsBlank(lines[0])) {
    return InvalidArgument(std::string(source) + ": empty file (expected a header line)");
  }
  std::array<size_t, kColumnCount> at{};
  size_t header_fields = 0;
  WOJAK_RETURN_IF_ERROR(MapHeader(lines[0], kColumnNames, source, at, header_fields));

  RowErrors errors(source);
  std::vector<Instrument> instruments;
  instruments.reserve(lines.size());
  std::unordered_map<std::string, size_t> line_of_symbol;
  std::unordered_map<int64_t, size_t> line_of_token;
  line_of_symbol.reserve(lines.size());
  line_of_token.reserve(lines.size());
  std::vector<std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t line = i + 1;
    if (IsBlank(lines[i])) continue;
    Status split = SplitCsvLine(lines[i], fields);
    if (!split.ok()) {
      errors.Add(line, "", split.message());
      continue;
    }
    if (fields.size() != header_fields) {
      errors.Add(line, "",
                 "has " + std::to_string(fields.size()) + " fields, the header has " +
                     std::to_string(header_fields));
      continue;
    }
    if (fields[at[kExchange]] != "NFO") continue;
    Instrument instrument;
    if (!ParseRow(fields, at, line, errors, instrument)) continue;
    auto [symbol_it, new_symbol] = line_of_symbol.emplace(instrument.tradingsymbol, line);
    if (!new_symbol) {
      errors.Add(line, "tradingsymbol",
                 "'" + instrument.tradingsymbol + "' already appears on line " +
                     std::to_string(symbol_it->second));
      continue;
    }
    auto [token_it, new_token] = line_of_token.emplace(instrument.instrument_token, line);
    if (!new_token) {
      errors.Add(line, "instrument_token",
                 std::to_string(instrument.instrument_token) + " already appears on line " +
                     std::to_string(token_it->second));
      continue;
    }
    instruments.push_back(std::move(instrument));
  }
  if (!errors.empty()) return errors.ToStatus();
  return instruments;
}

StatusOr<FreezeLimits> ParseFreezeLimits(std::string_view text, std::string_view source) {
  std::vector<std::string_view> lines = SplitLines(text);
  if (lines.empty() || IsBlank(lines[0])) {
    return InvalidArgument(std::string(source) + ": empty file (expected a header line)");
  }
  constexpr std::array<std::string_view, 2> kWanted = {"SYMBOL", "VOL_FRZ_QTY"};
  std::array<size_t, 2> at{};
  size_t header_fields = 0;
  WOJAK_RETURN_IF_ERROR(MapHeader(lines[0], kWanted, source, at, header_fields));
  RowErrors errors(source);
  FreezeLimits limits;
  std::unordered_map<std::string, size_t> line_of_symbol;
  std::vector<std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t line = i + 1;
    if (IsBlank(lines[i])) continue;
    Status split = SplitCsvLine(lines[i], fields);
    if (!split.ok()) {
      errors.Add(line, "", split.message());
      continue;
    }
    if (fields.size() != header_fields) {
      errors.Add(line, "",
                 "has " + std::to_string(fields.size()) + " fields, the header has " +
                     std::to_string(header_fields));
      continue;
    }
    const std::string& symbol = fields[at[0]];
    auto quantity = ParseInteger(fields[at[1]]);
    bool ok = true;
    if (symbol.empty()) {
      errors.Add(line, "SYMBOL", "must not be empty");
      ok = false;
    }
    if (!quantity || *quantity <= 0) {
      errors.Add(line, "VOL_FRZ_QTY", "'" + fields[at[1]] + "' is not a positive integer");
      ok = false;
    }
    if (!ok) continue;
    auto [it, inserted] = line_of_symbol.emplace(symbol, line);
    if (!inserted) {
      errors.Add(line, "SYMBOL",
                 "'" + symbol + "' already appears on line " + std::to_string(it->second));
      continue;
    }
    limits.emplace(symbol, *quantity);
  }
  if (!errors.empty()) return errors.ToStatus();
  return limits;
}

StatusOr<std::shared_ptr<const InstrumentTable>> BuildInstrumentTable(
    std::string_view instruments_csv, std::string_view freeze_csv,
    std::string_view instruments_source, std::string_view freeze_source) {
  auto instruments = ParseInstrumentsCsv(instruments_csv, instruments_source);
  auto freeze = ParseFreezeLimits(freeze_csv, freeze_source);
  // Both files' problems are reported together so one fix-and-retry round is enough.
  if (!instruments.ok() || !freeze.ok()) {
    std::string message;
    if (!instruments.ok()) message = instruments.status().message();
    if (!freeze.ok()) message += (message.empty() ? "" : "\n") + freeze.status().message();
    return InvalidArgument(std::move(message));
  }
  std::vector<Instrument> list = std::move(instruments).value();
  for (Instrument& instrument : list) {
    auto it = freeze->find(instrument.name);
    instrument.freeze_quantity = it == freeze->end() ? 0 : it->second;
  }
  return InstrumentTable::Create(std::move(list));
}

StatusOr<std::shared_ptr<const InstrumentTable>> LoadInstrumentTable(
    const std::string& csv_path, const std::string& freeze_path) {
  WOJAK_ASSIGN_OR_RETURN(std::string csv, ReadFile(csv_path));
  WOJAK_ASSIGN_OR_RETURN(std::string freeze, ReadFile(freeze_path));
  return BuildInstrumentTable(csv, freeze, csv_path, freeze_path);
}

}  // namespace wojak
