// Tests for snapshot/reload of the live instrument master.
#include "instruments/instrument_master.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace wojak {
namespace {

std::string TestData(const std::string& name) {
  const char* root = std::getenv("WOJAK_SOURCE_DIR");
  return std::string(root != nullptr ? root : WOJAK_SOURCE_DIR_DEFAULT) + "/tests/testdata/" + name;
}

class InstrumentMasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wojak_master_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::string OneFuture(const std::string& symbol) {
    return Write(symbol + ".csv",
                 "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
                 "tick_size,lot_size,instrument_type,segment,exchange\n"
                 "7,7," +
                     symbol + ",NIFTY,0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO\n");
  }

  std::filesystem::path dir_;
};

TEST_F(InstrumentMasterTest, LoadsTheFixture) {
  auto master = InstrumentMaster::Load(TestData("instruments.csv"), TestData("freeze_limits.csv"));
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_NE((*master)->Snapshot()->FindBySymbol("NIFTY26DECFUT"), nullptr);
  EXPECT_EQ((*master)->version(), 0u);
}

TEST_F(InstrumentMasterTest, ReloadSwapsTheTable) {
  InstrumentMaster master;
  std::string freeze = Write("freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\n");
  ASSERT_TRUE(master.Reload(OneFuture("NIFTY26DECFUT"), freeze).ok());
  EXPECT_NE(master.Snapshot()->FindBySymbol("NIFTY26DECFUT"), nullptr);
  EXPECT_EQ(master.Snapshot()->FindBySymbol("NIFTY26DECFUT")->freeze_quantity, 1800);
  EXPECT_EQ(master.version(), 1u);
}

TEST_F(InstrumentMasterTest, SnapshotTakenBeforeReloadIsUnchanged) {
  InstrumentMaster master;
  std::string freeze = Write("freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\n");
  ASSERT_TRUE(master.Reload(OneFuture("NIFTY26DECFUT"), freeze).ok());
  auto before = master.Snapshot();
  ASSERT_TRUE(master.Reload(OneFuture("NIFTY27JANFUT"), freeze).ok());
  EXPECT_NE(before->FindBySymbol("NIFTY26DECFUT"), nullptr);
  EXPECT_EQ(before->FindBySymbol("NIFTY27JANFUT"), nullptr);
  EXPECT_NE(master.Snapshot()->FindBySymbol("NIFTY27JANFUT"), nullptr);
}

TEST_F(InstrumentMasterTest, BadReloadChangesNothing) {
  InstrumentMaster master;
  std::string freeze = Write("freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\n");
  ASSERT_TRUE(master.Reload(OneFuture("NIFTY26DECFUT"), freeze).ok());
  auto before = master.Snapshot();
  Status status = master.Reload(TestData("bad_instruments.csv"), freeze);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("kept the current master"), std::string::npos);
  EXPECT_EQ(master.Snapshot(), before);
  EXPECT_EQ(master.version(), 1u);
}

TEST_F(InstrumentMasterTest, BadFreezeFileChangesNothing) {
  InstrumentMaster master;
  std::string freeze = Write("freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\n");
  ASSERT_TRUE(master.Reload(OneFuture("NIFTY26DECFUT"), freeze).ok());
  auto before = master.Snapshot();
  std::string bad_freeze = Write("bad_freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,-1\n");
  EXPECT_FALSE(master.Reload(OneFuture("NIFTY27JANFUT"), bad_freeze).ok());
  EXPECT_EQ(master.Snapshot(), before);
}

TEST_F(InstrumentMasterTest, ReadersSeeWholeTablesDuringReloads) {
  InstrumentMaster master;
  std::string freeze = Write("freeze.csv", "SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\n");
  std::string a = OneFuture("NIFTY26DECFUT");
  std::string b = OneFuture("NIFTY27JANFUT");
  ASSERT_TRUE(master.Reload(a, freeze).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto table = master.Snapshot();
      bool has_a = table->FindBySymbol("NIFTY26DECFUT") != nullptr;
      bool has_b = table->FindBySymbol("NIFTY27JANFUT") != nullptr;
      if (has_a == has_b || table->size() != 1) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(master.Reload(i % 2 ? a : b, freeze).ok());
  while (reads.load() == 0) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(master.version(), 51u);
}

}  // namespace
}  // namespace wojak
