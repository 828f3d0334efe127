// Tests for the raw storage probes: they measure something and clean up after themselves.
#include "store_probe.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace wojak {
namespace {

class StoreProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = std::filesystem::temp_directory_path() / "wojak-probe-XXXXXX";
    dir_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  bool DirIsEmpty() const { return std::filesystem::is_empty(dir_); }
  std::string dir_;
};

TEST_F(StoreProbeTest, RawStoreProbeReportsARateAndRemovesItsDatabase) {
  auto rate = RawStoreProbe(dir_, 500, 100);
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_GT(*rate, 0);
  EXPECT_TRUE(DirIsEmpty());
}

TEST_F(StoreProbeTest, RawStoreProbeRejectsAnEmptyBatch) {
  EXPECT_EQ(RawStoreProbe(dir_, 10, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreProbeTest, FsyncProbeReportsOrderedPercentilesAndRemovesItsFile) {
  auto latency = FsyncProbe(dir_, 20);
  ASSERT_TRUE(latency.ok()) << latency.status().ToString();
  EXPECT_GT(latency->p50_us, 0);
  EXPECT_LE(latency->p50_us, latency->p99_us);
  EXPECT_TRUE(DirIsEmpty());
}

TEST_F(StoreProbeTest, FsyncProbeInAnUnwritableDirectoryFails) {
  EXPECT_FALSE(FsyncProbe("/proc/wojak-no-such-dir", 1).ok());
}

}  // namespace
}  // namespace wojak
