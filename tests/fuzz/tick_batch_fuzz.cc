// Fuzzes the tick batch decoder the tick feed runs on every frame: no input crashes it, and a
// batch that decodes re-encodes to an equal batch.
#include "fuzz/fuzz_check.h"
#include "wire/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wojak;
  auto ticks = DecodeTickBatch(fuzz::AsText(data, size));
  if (!ticks.ok()) return 0;
  for (const TickUpdate& tick : *ticks) {
    fuzz::Check(tick.instrument_token != 0 || !tick.symbol.empty(),
                "every decoded tick names an instrument");
  }
  auto again = DecodeTickBatch(EncodeTickBatch(PeekRequestId(fuzz::AsText(data, size)), *ticks));
  fuzz::Check(again.ok(), "a re-encoded tick batch decodes");
  fuzz::Check(*again == *ticks, "tick batch survives re-encoding");
  return 0;
}
