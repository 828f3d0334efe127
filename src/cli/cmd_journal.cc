// `wojak replay` and `wojak verify`: rebuild state from a journal, or check it for corruption.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "engine/market.h"
#include "engine/sequencer.h"
#include "journal/hash_chain.h"
#include "journal/sqlite_journal.h"

namespace wojak::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {{"data", true, "data directory holding wojak.db"},
                                      {"json", false, "print the result as one JSON object"},
                                      {"help", false, "show this help"}};
const std::vector<FlagSpec> kReplaySpecs = {
    {"data", true, "data directory holding wojak.db"},
    {"instruments", true, "instruments CSV the engine ran with (default as `wojak engine`)"},
    {"freeze", true, "freeze-limit file the engine ran with (default as `wojak engine`)"},
    {"json", false, "print the result as one JSON object"},
    {"help", false, "show this help"}};

}  // namespace

int RunReplay(const Args& args) {
  auto flags = Flags::Parse(args, kReplaySpecs);
  if (!flags.ok()) return UsageError("replay", flags.status().message());
  if (flags->Has("help") || !flags->Has("data")) {
    std::cout << "usage: wojak replay --data DIR [--json]\n" << FlagsUsage(kReplaySpecs);
    return flags->Has("help") ? 0 : 2;
  }
  JournalOptions options;
  options.path = JournalPathForDataDir(*flags->Get("data"));
  // Opening creates a missing journal; a mistyped directory must be an error instead.
  if (!std::filesystem::exists(options.path))
    return Fail("replay", "no journal at " + options.path);
  options.verify_on_open = false;  // Replay checks every link itself
  auto journal = SqliteJournal::Open(options);
  if (!journal.ok()) return Fail("replay", journal.status().ToString());
  // Replay applies recorded decisions and never consults the gate, so default limits are enough;
  // the instruments are needed to place open orders and fills in the risk state.
  EngineOptions defaults;
  auto instruments = InstrumentMaster::Load(flags->GetOr("instruments", defaults.instruments_path),
                                            flags->GetOr("freeze", defaults.freeze_path));
  if (!instruments.ok()) return Fail("replay", instruments.status().ToString());
  auto config = ConfigDocument::Empty();
  RiskConfig risk_config = ReadRiskConfig(config->Root());
  RiskGate gate(risk_config);
  EngineMarket market(**instruments, risk_config.reference_price);
  Sequencer sequencer(SequencerOptions{}, **instruments, gate, market);
  const Nanos start = RealClock::Instance().Monotonic();
  Status replayed =
      (*journal)->Replay(1, [&](const Entry& entry) { return sequencer.Replay(entry); });
  const double seconds =
      static_cast<double>(RealClock::Instance().Monotonic() - start) / kNanosPerSecond;
  if (!replayed.ok()) return Fail("replay", replayed.ToString());
  const uint64_t entries = sequencer.last_seq();
  const double rate = seconds > 0 ? entries / seconds : 0;
  if (flags->Has("json")) {
    std::cout << nlohmann::json{{"entries", entries},
                                {"entries_per_s", static_cast<uint64_t>(rate)},
                                {"orders", sequencer.orders().size()},
                                {"seconds", seconds}}
                     .dump()
              << "\n";
  } else {
    std::cout << "replayed " << entries << " entries (" << sequencer.orders().size()
              << " orders) in " << seconds << " s: " << static_cast<uint64_t>(rate)
              << " entries/s\n";
  }
  return 0;
}

int RunVerify(const Args& args) {
  auto flags = Flags::Parse(args, kSpecs);
  if (!flags.ok()) return UsageError("verify", flags.status().message());
  if (flags->Has("help") || !flags->Has("data")) {
    std::cout << "usage: wojak verify --data DIR [--json]\n" << FlagsUsage(kSpecs);
    return flags->Has("help") ? 0 : 2;
  }
  VerifyReport report;
  Status verified = SqliteJournal::Verify(JournalPathForDataDir(*flags->Get("data")), &report);
  nlohmann::json out = {{"ok", verified.ok()},         {"integrity", report.integrity},
                        {"entries", report.entries},   {"first_seq", report.first_seq},
                        {"last_seq", report.last_seq}, {"last_hash", HashToHex(report.last_hash)}};
  if (!verified.ok()) {
    out["first_bad_seq"] = report.first_bad_seq;
    out["problem"] = report.problem.empty() ? verified.ToString() : report.problem;
  }
  if (flags->Has("json")) {
    std::cout << out.dump() << "\n";
  } else if (verified.ok()) {
    std::cout << "journal ok: " << report.entries << " entries, seq " << report.first_seq << ".."
              << report.last_seq << ", chain head " << HashToHex(report.last_hash) << "\n";
  } else {
    std::cerr << "journal CORRUPT at entry " << report.first_bad_seq << ": "
              << out["problem"].get<std::string>() << "\n";
  }
  return verified.ok() ? 0 : 1;
}

}  // namespace wojak::cli
