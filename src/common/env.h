// Env: the file-system, fsync and clock seam, with in-memory and fault-injecting implementations.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace wojak {

// A file written front to back. Data is durable only after Sync returns OK; after a failed Sync
// the unsynced data must be treated as lost (Linux may drop the dirty pages and report success on
// the next fsync), so callers never retry a Sync and then claim durability.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Hands buffered data to the operating system (not durable).
  virtual Status Flush() = 0;
  // Flushes, then makes the file's data durable (fdatasync).
  virtual Status Sync() = 0;
  // Flushes and closes; later calls fail.
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates the file, or truncates it if it exists.
  virtual StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual StatusOr<std::string> ReadFileToString(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Atomically replaces `to`. Durable only after SyncDir on the parent directory.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status DeleteFile(const std::string& path) = 0;
  // Creates the directory and any missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // Names (not paths) of the entries in a directory, sorted, without "." and "..".
  virtual StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Makes creations, renames and deletions inside the directory durable.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Clock& clock() = 0;

  // The POSIX file system and the real clock. Never deleted.
  static Env* Default();
};

// Writes `data` to `path` so that after a crash the file holds either its old or its new content:
// write to path + ".tmp", Sync, rename over path, SyncDir.
Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data);

// The directory part of a path ("a/b/c" -> "a/b", "c" -> ".").
std::string DirName(const std::string& path);

// Keeps files in memory; for unit tests that need an Env but no disk. Thread-safe.
class InMemoryEnv final : public Env {
 public:
  explicit InMemoryEnv(Nanos start_time = 0) : clock_(start_time) {}

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  StatusOr<std::string> ReadFileToString(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status DeleteFile(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& path) override;
  ManualClock& clock() override { return clock_; }

 private:
  class File;
  Status AppendTo(const std::string& path, std::string_view data);

  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::vector<std::string> dirs_;
  ManualClock clock_;
};

// How often an injected fault fires.
enum class FaultMode : uint8_t {
  kNever,
  kOnce,    // the next operation fails, later ones succeed
  kAlways,  // every operation fails until the mode is changed
};

// A set of fault switches and counters, safe to flip from a test thread while another thread does
// I/O. FaultInjectionEnv owns one; code that cannot go through Env (SQLite's VFS, see
// journal/fault_vfs.h) consults the process-wide Global() instance.
class StorageFaults {
 public:
  static StorageFaults& Global();

  // Sync fails with EIO.
  void FailSyncs(FaultMode mode) { sync_mode_.store(mode, std::memory_order_release); }
  // Writes fail with ENOSPC.
  void SetDiskFull(bool full) { disk_full_.store(full, std::memory_order_release); }
  // Clears the switches and the counters.
  void Reset();

  // Called by storage code before each operation; true means "fail this one". Counts the calls.
  bool ShouldFailSync();
  bool ShouldFailWrite();

  uint64_t syncs() const { return syncs_.load(std::memory_order_acquire); }
  uint64_t failed_syncs() const { return failed_syncs_.load(std::memory_order_acquire); }
  uint64_t failed_writes() const { return failed_writes_.load(std::memory_order_acquire); }

 private:
  std::atomic<FaultMode> sync_mode_{FaultMode::kNever};
  std::atomic<bool> disk_full_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> failed_syncs_{0};
  std::atomic<uint64_t> failed_writes_{0};
};

// Wraps another Env and injects storage faults into files written through it: Sync fails with EIO,
// Append fails with ENOSPC, and DropUnsyncedData simulates a power cut. A Sync that failed
// "loses" the data it should have made durable, as Linux does after an fsync EIO: a later
// successful Sync does not bring it back (the fsyncgate lesson).
class FaultInjectionEnv final : public Env {
 public:
  // `base` must outlive this Env.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  StorageFaults& faults() { return faults_; }
  // Reverts every file written through this Env to what a power cut would leave: its content
  // up to the last successful Sync, with data lost to a failed Sync zeroed; files never synced
  // are deleted. Forgets the tracked files.
  Status DropUnsyncedData();

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  StatusOr<std::string> ReadFileToString(const std::string& path) override {
    return base_->ReadFileToString(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status DeleteFile(const std::string& path) override;
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Clock& clock() override { return base_->clock(); }

 private:
  class File;
  // What a power cut would leave of one file.
  struct Durability {
    uint64_t size = 0;         // bytes appended so far
    uint64_t synced_size = 0;  // bytes covered by the last successful Sync
    bool ever_synced = false;
    // [begin, end) ranges a failed Sync should have made durable.
    std::vector<std::pair<uint64_t, uint64_t>> lost;
  };
  void OnAppend(const std::string& path, uint64_t bytes);
  void OnSync(const std::string& path, bool ok);

  Env* base_;
  StorageFaults faults_;
  std::mutex mu_;
  std::map<std::string, Durability> tracked_;
};

}  // namespace wojak
