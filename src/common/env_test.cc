// Tests for the POSIX, in-memory and fault-injecting Envs.
#include "common/env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace wojak {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "wojak-env-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status WriteFile(Env& env, const std::string& path, std::string_view data, bool sync) {
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env.NewWritableFile(path));
  WOJAK_RETURN_IF_ERROR(file->Append(data));
  if (sync) WOJAK_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

TEST(PosixEnvTest, WritesAndReadsBackAFile) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string path = dir.path() + "/a.txt";
  ASSERT_TRUE(WriteFile(env, path, "hello", /*sync=*/true).ok());
  ASSERT_TRUE(env.FileExists(path));
  EXPECT_EQ(*env.ReadFileToString(path), "hello");
  EXPECT_EQ(*env.GetFileSize(path), 5u);
}

TEST(PosixEnvTest, AppendsLargerThanTheBufferArriveInOrder) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string path = dir.path() + "/big";
  std::string big(200 * 1024, 'x');
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("head").ok());
  ASSERT_TRUE((*file)->Append(big).ok());
  ASSERT_TRUE((*file)->Append("tail").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*env.ReadFileToString(path), "head" + big + "tail");
}

TEST(PosixEnvTest, ClosedFileRefusesAppends) {
  TempDir dir;
  auto file = Env::Default()->NewWritableFile(dir.path() + "/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->Append("x").code(), StatusCode::kFailedPrecondition);
}

TEST(PosixEnvTest, CreatesNestedDirectoriesAndListsThemSorted) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string nested = dir.path() + "/x/y/z";
  ASSERT_TRUE(env.CreateDirs(nested).ok());
  ASSERT_TRUE(env.CreateDirs(nested).ok());  // existing is fine
  ASSERT_TRUE(WriteFile(env, nested + "/b", "", false).ok());
  ASSERT_TRUE(WriteFile(env, nested + "/a", "", false).ok());
  EXPECT_EQ(*env.ListDir(nested), (std::vector<std::string>{"a", "b"}));
}

TEST(PosixEnvTest, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(Env::Default()->ReadFileToString(dir.path() + "/none").status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(Env::Default()->FileExists(dir.path() + "/none"));
}

TEST(PosixEnvTest, RenameTruncateAndDelete) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string from = dir.path() + "/from";
  std::string to = dir.path() + "/to";
  ASSERT_TRUE(WriteFile(env, from, "abcdef", true).ok());
  ASSERT_TRUE(env.RenameFile(from, to).ok());
  EXPECT_FALSE(env.FileExists(from));
  ASSERT_TRUE(env.Truncate(to, 3).ok());
  EXPECT_EQ(*env.ReadFileToString(to), "abc");
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE(env.DeleteFile(to).ok());
  EXPECT_FALSE(env.FileExists(to));
}

TEST(PosixEnvTest, WriteFileAtomicallyReplacesContentAndLeavesNoTempFile) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string path = dir.path() + "/state";
  ASSERT_TRUE(WriteFileAtomically(env, path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(env, path, "new").ok());
  EXPECT_EQ(*env.ReadFileToString(path), "new");
  EXPECT_EQ(*env.ListDir(dir.path()), std::vector<std::string>{"state"});
}

TEST(DirNameTest, SplitsOffTheLastComponent) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("c"), ".");
}

TEST(InMemoryEnvTest, KeepsFilesInMemory) {
  InMemoryEnv env;
  ASSERT_TRUE(WriteFile(env, "/d/a", "one", true).ok());
  ASSERT_TRUE(WriteFile(env, "/d/b", "two", false).ok());
  ASSERT_TRUE(WriteFile(env, "/d/sub/c", "three", false).ok());
  EXPECT_EQ(*env.ReadFileToString("/d/a"), "one");
  EXPECT_EQ(*env.ListDir("/d"), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(env.RenameFile("/d/a", "/d/z").ok());
  EXPECT_FALSE(env.FileExists("/d/a"));
  EXPECT_EQ(*env.GetFileSize("/d/z"), 3u);
  EXPECT_EQ(env.DeleteFile("/d/a").code(), StatusCode::kNotFound);
}

TEST(InMemoryEnvTest, ClockMovesOnlyWhenTold) {
  InMemoryEnv env(1000);
  EXPECT_EQ(env.clock().Now(), 1000);
  env.clock().Advance(5);
  EXPECT_EQ(env.clock().Now(), 1005);
}

TEST(FaultInjectionEnvTest, SyncFailsOnceWithIoError) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  env.faults().FailSyncs(FaultMode::kOnce);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("x").ok());
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIoError);
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(env.faults().syncs(), 2u);
  EXPECT_EQ(env.faults().failed_syncs(), 1u);
}

TEST(FaultInjectionEnvTest, SyncFailsUntilTheFaultIsCleared) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  env.faults().FailSyncs(FaultMode::kAlways);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE((*file)->Sync().ok());
  env.faults().FailSyncs(FaultMode::kNever);
  EXPECT_TRUE((*file)->Sync().ok());
}

TEST(FaultInjectionEnvTest, DiskFullFailsAppendsWithResourceExhausted) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("ok").ok());
  env.faults().SetDiskFull(true);
  EXPECT_EQ((*file)->Append("more").code(), StatusCode::kResourceExhausted);
  env.faults().SetDiskFull(false);
  ASSERT_TRUE((*file)->Append("!").ok());
  EXPECT_EQ(*base.ReadFileToString("/f"), "ok!");
  EXPECT_EQ(env.faults().failed_writes(), 1u);
}

TEST(FaultInjectionEnvTest, PowerLossKeepsOnlySyncedData) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  auto file = env.NewWritableFile("/log");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("durable;").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("volatile").ok());
  ASSERT_TRUE(WriteFile(env, "/never-synced", "gone", false).ok());

  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*base.ReadFileToString("/log"), "durable;");
  EXPECT_FALSE(base.FileExists("/never-synced"));
}

// After an fsync EIO, Linux may mark the dirty pages clean, so a retried fsync reports success
// without writing them: the data the failed sync covered is lost even though a later sync "worked".
TEST(FaultInjectionEnvTest, RetriedSyncAfterEioDoesNotMakeEarlierDataDurable) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  auto file = env.NewWritableFile("/log");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("A").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("B").ok());
  env.faults().FailSyncs(FaultMode::kOnce);
  ASSERT_FALSE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("C").ok());
  ASSERT_TRUE((*file)->Sync().ok());

  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*base.ReadFileToString("/log"), std::string("A\0C", 3));
}

TEST(FaultInjectionEnvTest, RenamedFileKeepsItsDurability) {
  InMemoryEnv base;
  FaultInjectionEnv env(&base);
  ASSERT_TRUE(WriteFileAtomically(env, "/state", "v1").ok());
  EXPECT_EQ(*env.ReadFileToString("/state"), "v1");
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*base.ReadFileToString("/state"), "v1");
}

TEST(StorageFaultsTest, OneShotSyncFaultFiresExactlyOnce) {
  StorageFaults faults;
  faults.FailSyncs(FaultMode::kOnce);
  EXPECT_TRUE(faults.ShouldFailSync());
  EXPECT_FALSE(faults.ShouldFailSync());
  EXPECT_EQ(faults.syncs(), 2u);
  faults.Reset();
  EXPECT_EQ(faults.syncs(), 0u);
}

}  // namespace
}  // namespace wojak
