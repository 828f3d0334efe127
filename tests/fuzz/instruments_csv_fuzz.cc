// Fuzzes the instrument master loaders. The input is an instruments CSV, optionally followed by
// a line "%%" and a freeze-limit file. No input crashes a loader; a table that builds finds every
// contract it holds by symbol and by token.
#include "fuzz/fuzz_check.h"
#include "instruments/loader.h"

namespace {
constexpr std::string_view kFreezeSeparator = "\n%%\n";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wojak;
  std::string_view input = fuzz::AsText(data, size);
  std::string_view instruments_csv = input;
  std::string_view freeze_csv = "SYMBOL,VOL_FRZ_QTY\n";
  if (size_t at = input.find(kFreezeSeparator); at != std::string_view::npos) {
    instruments_csv = input.substr(0, at);
    freeze_csv = input.substr(at + kFreezeSeparator.size());
  }
  auto instruments = ParseInstrumentsCsv(instruments_csv);
  auto freeze = ParseFreezeLimits(freeze_csv);
  auto table = BuildInstrumentTable(instruments_csv, freeze_csv);
  if (!table.ok()) return 0;
  fuzz::Check(instruments.ok() && freeze.ok(), "a table builds only from parseable files");
  for (const Instrument& instrument : (*table)->instruments()) {
    fuzz::Check((*table)->FindBySymbol(instrument.tradingsymbol) == &instrument,
                "every contract is found by its symbol");
    fuzz::Check((*table)->FindByToken(instrument.instrument_token) == &instrument,
                "every contract is found by its token");
    if (instrument.underlying_token != 0) {
      const Instrument* underlying = (*table)->FindByToken(instrument.underlying_token);
      fuzz::Check(underlying != nullptr, "an underlying token names a contract in the table");
      fuzz::Check(underlying->instrument_type == InstrumentType::kFuture,
                  "a contract's underlying is a future");
    }
  }
  return 0;
}
