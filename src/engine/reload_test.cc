// Reload preparation (every error reported, nothing half-read) and the hand-over to the
// sequencer thread.
#include "engine/reload.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/process.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;

TEST(ReadRiskConfigFileTest, ReadsOnlyTheRiskSections) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("wojak.yaml"), R"(
engine:
  data_dir: somewhere
api:
  listen: 127.0.0.1:0
session:
  enforce: false
risk:
  limits:
    max_open_orders: 3
)");
  auto config = ReadRiskConfigFile(dir.File("wojak.yaml"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->account_defaults.max_open_orders, 3);
  EXPECT_FALSE(config->session.enforce);
}

TEST(ReadRiskConfigFileTest, ReportsEveryProblemInTheRiskSections) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("wojak.yaml"), R"(
risk:
  limits:
    max_open_orders: lots
    max_open_orderz: 3
)");
  auto config = ReadRiskConfigFile(dir.File("wojak.yaml"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("max_open_orders"), std::string::npos);
  EXPECT_NE(config.status().message().find("max_open_orderz"), std::string::npos);
}

TEST(ReadRiskConfigFileTest, RefusesMissingAndMalformedFiles) {
  testing::TempDir dir;
  EXPECT_EQ(ReadRiskConfigFile(dir.File("absent.yaml")).status().code(), StatusCode::kNotFound);
  testing::WriteFile(dir.File("list.yaml"), "- a\n- b\n");
  EXPECT_EQ(ReadRiskConfigFile(dir.File("list.yaml")).status().code(),
            StatusCode::kInvalidArgument);
  testing::WriteFile(dir.File("syntax.yaml"), "risk: [unclosed\n");
  EXPECT_EQ(ReadRiskConfigFile(dir.File("syntax.yaml")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PrepareReloadTest, BadInstrumentsFailTheWholeReload) {
  const std::string testdata = testing::SourceDir() + "/tests/testdata/";
  auto bundle = PrepareReload(testdata + "bad_instruments.csv", testdata + "freeze_limits.csv", "");
  EXPECT_EQ(bundle.status().code(), StatusCode::kInvalidArgument);
  auto good = PrepareReload(testdata + "instruments.csv", testdata + "freeze_limits.csv", "");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_GT(good->instruments->size(), 0u);
  EXPECT_EQ(good->gate, nullptr);  // no configuration file: limits stay
}

TEST(ReloadSlotTest, OfferReturnsOnceTheSequencerApplied) {
  ReloadSlot slot;
  std::atomic<bool> applied{false};
  std::atomic<bool> stop{false};
  std::thread sequencer([&] {
    while (!stop) {
      slot.ApplyIfStaged([&](ReloadBundle&) { applied = true; });
      std::this_thread::sleep_for(1ms);
    }
  });
  EXPECT_TRUE(slot.Offer(ReloadBundle{}, 10s, [] {}));
  EXPECT_TRUE(applied);
  stop = true;
  sequencer.join();
}

TEST(ReloadSlotTest, UnclaimedOfferIsWithdrawnAndNeverApplied) {
  ReloadSlot slot;
  EXPECT_FALSE(slot.Offer(ReloadBundle{}, 1ms, [] {}));
  bool applied = false;
  slot.ApplyIfStaged([&](ReloadBundle&) { applied = true; });
  EXPECT_FALSE(applied);
}

}  // namespace
}  // namespace wojak
