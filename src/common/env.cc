// POSIX, in-memory and fault-injecting Env implementations.
#include "common/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wojak {
namespace {

Status PosixError(std::string_view what, const std::string& path, int error) {
  std::string message(what);
  message += " ";
  message += path;
  message += ": ";
  message += std::strerror(error);
  if (error == ENOENT) return NotFound(std::move(message));
  if (error == ENOSPC || error == EDQUOT) return ResourceExhausted(std::move(message));
  if (error == EACCES || error == EPERM) return PermissionDenied(std::move(message));
  return IoError(std::move(message));
}

// Writes through a user-space buffer so small appends do not each cost a system call.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    buffer_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPrecondition("append to closed file " + path_);
    if (buffer_.size() + data.size() > kBufferSize) {
      WOJAK_RETURN_IF_ERROR(Flush());
      if (data.size() > kBufferSize) return WriteAll(data);
    }
    buffer_.append(data);
    return OkStatus();
  }

  Status Flush() override {
    if (fd_ < 0) return FailedPrecondition("flush of closed file " + path_);
    Status status = WriteAll(buffer_);
    buffer_.clear();
    return status;
  }

  Status Sync() override {
    WOJAK_RETURN_IF_ERROR(Flush());
    if (fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return OkStatus();
  }

  Status Close() override {
    if (fd_ < 0) return FailedPrecondition("close of closed file " + path_);
    Status status = Flush();
    if (close(fd_) != 0 && status.ok()) status = PosixError("close", path_, errno);
    fd_ = -1;
    return status;
  }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t written = write(fd_, data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(written));
    }
    return OkStatus();
  }

  std::string path_;
  int fd_;
  std::string buffer_;
};

class PosixEnv final : public Env {
 public:
  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  StatusOr<std::string> ReadFileToString(const std::string& path) override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    std::string content;
    char chunk[64 * 1024];
    while (true) {
      ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n < 0) {
        if (errno == EINTR) continue;
        int error = errno;
        close(fd);
        return PosixError("read", path, error);
      }
      if (n == 0) break;
      content.append(chunk, static_cast<size_t>(n));
    }
    close(fd);
    return content;
  }

  bool FileExists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }

  StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return PosixError("rename to " + to, from, errno);
    return OkStatus();
  }

  Status DeleteFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return OkStatus();
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return InvalidArgument("CreateDirs: empty path");
    for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
      std::string prefix = path.substr(0, slash);
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return PosixError("mkdir", prefix, errno);
      }
      if (slash == std::string::npos) break;
    }
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    if (!S_ISDIR(st.st_mode)) return FailedPrecondition(path + " exists and is not a directory");
    return OkStatus();
  }

  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return PosixError("opendir", path, errno);
    std::vector<std::string> names;
    while (dirent* entry = readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno);
    }
    return OkStatus();
  }

  Status SyncDir(const std::string& path) override {
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    Status status;
    if (fsync(fd) != 0) status = PosixError("fsync", path, errno);
    close(fd);
    return status;
  }

  Clock& clock() override { return RealClock::Instance(); }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data) {
  std::string temp = path + ".tmp";
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env.NewWritableFile(temp));
  Status status = file->Append(data);
  if (status.ok()) status = file->Sync();
  Status closed = file->Close();
  if (status.ok()) status = closed;
  if (!status.ok()) {
    env.DeleteFile(temp).IgnoreError();
    return status;
  }
  WOJAK_RETURN_IF_ERROR(env.RenameFile(temp, path));
  return env.SyncDir(DirName(path));
}

// ---------------------------------------------------------------------------------------------
// InMemoryEnv

class InMemoryEnv::File final : public WritableFile {
 public:
  File(InMemoryEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  Status Append(std::string_view data) override {
    if (closed_) return FailedPrecondition("append to closed file " + path_);
    return env_->AppendTo(path_, data);
  }
  Status Flush() override { return CheckOpen("flush"); }
  Status Sync() override { return CheckOpen("sync"); }
  Status Close() override {
    WOJAK_RETURN_IF_ERROR(CheckOpen("close"));
    closed_ = true;
    return OkStatus();
  }

 private:
  Status CheckOpen(std::string_view what) const {
    if (closed_) return FailedPrecondition(std::string(what) + " of closed file " + path_);
    return OkStatus();
  }
  InMemoryEnv* env_;
  std::string path_;
  bool closed_ = false;
};

Status InMemoryEnv::AppendTo(const std::string& path, std::string_view data) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("file " + path + " was deleted while open");
  it->second.append(data);
  return OkStatus();
}

StatusOr<std::unique_ptr<WritableFile>> InMemoryEnv::NewWritableFile(const std::string& path) {
  std::lock_guard lock(mu_);
  files_[path].clear();
  return std::unique_ptr<WritableFile>(std::make_unique<File>(this, path));
}

StatusOr<std::string> InMemoryEnv::ReadFileToString(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("no file " + path);
  return it->second;
}

bool InMemoryEnv::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  return files_.contains(path) || std::find(dirs_.begin(), dirs_.end(), path) != dirs_.end();
}

StatusOr<uint64_t> InMemoryEnv::GetFileSize(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("no file " + path);
  return static_cast<uint64_t>(it->second.size());
}

Status InMemoryEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return NotFound("no file " + from);
  std::string content = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(content);
  return OkStatus();
}

Status InMemoryEnv::DeleteFile(const std::string& path) {
  std::lock_guard lock(mu_);
  if (files_.erase(path) == 0) return NotFound("no file " + path);
  return OkStatus();
}

Status InMemoryEnv::CreateDirs(const std::string& path) {
  std::lock_guard lock(mu_);
  if (files_.contains(path)) return FailedPrecondition(path + " exists and is not a directory");
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (std::find(dirs_.begin(), dirs_.end(), prefix) == dirs_.end()) dirs_.push_back(prefix);
    if (slash == std::string::npos) break;
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> InMemoryEnv::ListDir(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string prefix = path + "/";
  std::vector<std::string> names;
  for (const auto& [name, content] : files_) {
    if (name.starts_with(prefix) && name.find('/', prefix.size()) == std::string::npos) {
      names.push_back(name.substr(prefix.size()));
    }
  }
  return names;  // std::map iterates in sorted order
}

Status InMemoryEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("no file " + path);
  it->second.resize(size, '\0');
  return OkStatus();
}

// Everything in memory is as durable as it will ever be.
Status InMemoryEnv::SyncDir(const std::string&) { return OkStatus(); }

// ---------------------------------------------------------------------------------------------
// StorageFaults

StorageFaults& StorageFaults::Global() {
  static StorageFaults faults;
  return faults;
}

void StorageFaults::Reset() {
  sync_mode_.store(FaultMode::kNever, std::memory_order_release);
  disk_full_.store(false, std::memory_order_release);
  syncs_.store(0, std::memory_order_release);
  failed_syncs_.store(0, std::memory_order_release);
  failed_writes_.store(0, std::memory_order_release);
}

bool StorageFaults::ShouldFailSync() {
  syncs_.fetch_add(1, std::memory_order_acq_rel);
  FaultMode mode = sync_mode_.load(std::memory_order_acquire);
  bool fail = mode == FaultMode::kAlways;
  if (mode == FaultMode::kOnce) {
    // Only one of several concurrent syncs may consume a one-shot fault.
    fail = sync_mode_.compare_exchange_strong(mode, FaultMode::kNever, std::memory_order_acq_rel);
  }
  if (fail) failed_syncs_.fetch_add(1, std::memory_order_acq_rel);
  return fail;
}

bool StorageFaults::ShouldFailWrite() {
  bool fail = disk_full_.load(std::memory_order_acquire);
  if (fail) failed_writes_.fetch_add(1, std::memory_order_acq_rel);
  return fail;
}

// ---------------------------------------------------------------------------------------------
// FaultInjectionEnv

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (env_->faults_.ShouldFailWrite()) {
      return ResourceExhausted("write " + path_ + ": No space left on device (injected)");
    }
    WOJAK_RETURN_IF_ERROR(base_->Append(data));
    env_->OnAppend(path_, data.size());
    return OkStatus();
  }
  Status Flush() override { return base_->Flush(); }
  Status Sync() override {
    if (env_->faults_.ShouldFailSync()) {
      env_->OnSync(path_, /*ok=*/false);
      return IoError("fdatasync " + path_ + ": Input/output error (injected)");
    }
    Status status = base_->Sync();
    env_->OnSync(path_, status.ok());
    return status;
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base, base_->NewWritableFile(path));
  {
    std::lock_guard lock(mu_);
    tracked_[path] = Durability{};
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(this, path, std::move(base)));
}

void FaultInjectionEnv::OnAppend(const std::string& path, uint64_t bytes) {
  std::lock_guard lock(mu_);
  tracked_[path].size += bytes;
}

void FaultInjectionEnv::OnSync(const std::string& path, bool ok) {
  std::lock_guard lock(mu_);
  Durability& file = tracked_[path];
  if (ok) {
    file.synced_size = file.size;
    file.ever_synced = true;
  } else if (file.size > file.synced_size) {
    // The kernel may already have dropped these pages; the next fsync will not cover them.
    file.lost.emplace_back(file.synced_size, file.size);
    file.synced_size = file.size;
  }
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  WOJAK_RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard lock(mu_);
  auto it = tracked_.find(from);
  if (it != tracked_.end()) {
    tracked_[to] = std::move(it->second);
    tracked_.erase(from);
  }
  return OkStatus();
}

Status FaultInjectionEnv::DeleteFile(const std::string& path) {
  WOJAK_RETURN_IF_ERROR(base_->DeleteFile(path));
  std::lock_guard lock(mu_);
  tracked_.erase(path);
  return OkStatus();
}

Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  WOJAK_RETURN_IF_ERROR(base_->Truncate(path, size));
  std::lock_guard lock(mu_);
  auto it = tracked_.find(path);
  if (it != tracked_.end()) {
    it->second.size = size;
    it->second.synced_size = std::min(it->second.synced_size, size);
  }
  return OkStatus();
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::map<std::string, Durability> tracked;
  {
    std::lock_guard lock(mu_);
    tracked.swap(tracked_);
  }
  for (const auto& [path, file] : tracked) {
    if (!file.ever_synced) {
      WOJAK_RETURN_IF_ERROR(base_->DeleteFile(path));
      continue;
    }
    WOJAK_ASSIGN_OR_RETURN(std::string content, base_->ReadFileToString(path));
    content.resize(std::min<uint64_t>(content.size(), file.synced_size));
    for (const auto& [begin, end] : file.lost) {
      if (begin >= content.size()) continue;
      std::fill(content.begin() + static_cast<ptrdiff_t>(begin),
                content.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(end, content.size())),
                '\0');
    }
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> rewritten, base_->NewWritableFile(path));
    WOJAK_RETURN_IF_ERROR(rewritten->Append(content));
    WOJAK_RETURN_IF_ERROR(rewritten->Sync());
    WOJAK_RETURN_IF_ERROR(rewritten->Close());
  }
  return OkStatus();
}

}  // namespace wojak
