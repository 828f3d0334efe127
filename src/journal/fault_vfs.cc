// The "wojak-fault" SQLite VFS: a forwarding shim over the default VFS that consults
// StorageFaults::Global() before writes and syncs.
#include "journal/fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "common/env.h"

namespace wojak {
namespace {

// SQLite allocates szOsFile bytes per open file; ours is this header followed by the real file.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
  // Valid until xClose (SQLite guarantees the name outlives the file). Null for temp files.
  const char* name;
};

sqlite3_vfs* g_real_vfs = nullptr;
std::atomic<bool> g_track_images{false};
std::mutex g_images_mu;
std::map<std::string, std::string>* g_images = new std::map<std::string, std::string>();

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file)->real; }

// Reads the whole file through the real VFS so the image is exactly what SQLite has written.
int CaptureImage(FaultFile* file) {
  sqlite3_int64 size = 0;
  int rc = file->real->pMethods->xFileSize(file->real, &size);
  if (rc != SQLITE_OK) return rc;
  std::string image(static_cast<size_t>(size), '\0');
  if (size > 0) {
    rc = file->real->pMethods->xRead(file->real, image.data(), static_cast<int>(size), 0);
    if (rc != SQLITE_OK) return rc;
  }
  std::lock_guard lock(g_images_mu);
  (*g_images)[file->name] = std::move(image);
  return SQLITE_OK;
}

int FaultClose(sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); }
int FaultRead(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), buffer, amount, offset);
}
int FaultWrite(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  if (StorageFaults::Global().ShouldFailWrite()) return SQLITE_FULL;
  return Real(file)->pMethods->xWrite(Real(file), buffer, amount, offset);
}
int FaultTruncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int FaultSync(sqlite3_file* file, int flags) {
  if (StorageFaults::Global().ShouldFailSync()) return SQLITE_IOERR_FSYNC;
  int rc = Real(file)->pMethods->xSync(Real(file), flags);
  auto* fault_file = reinterpret_cast<FaultFile*>(file);
  if (rc == SQLITE_OK && fault_file->name != nullptr &&
      g_track_images.load(std::memory_order_acquire)) {
    rc = CaptureImage(fault_file);
  }
  return rc;
}
int FaultFileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int FaultLock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xLock(Real(file), level);
}
int FaultUnlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int FaultCheckReservedLock(sqlite3_file* file, int* reserved) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), reserved);
}
int FaultFileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int FaultSectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int FaultDeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int FaultShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** address) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, address);
}
int FaultShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void FaultShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int FaultShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
int FaultFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** pointer) {
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, pointer);
}
int FaultUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* pointer) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, pointer);
}

const sqlite3_io_methods kFaultIoMethods = {
    3,
    FaultClose,
    FaultRead,
    FaultWrite,
    FaultTruncate,
    FaultSync,
    FaultFileSize,
    FaultLock,
    FaultUnlock,
    FaultCheckReservedLock,
    FaultFileControl,
    FaultSectorSize,
    FaultDeviceCharacteristics,
    FaultShmMap,
    FaultShmLock,
    FaultShmBarrier,
    FaultShmUnmap,
    FaultFetch,
    FaultUnfetch,
};

int FaultOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* fault_file = reinterpret_cast<FaultFile*>(file);
  fault_file->real = reinterpret_cast<sqlite3_file*>(fault_file + 1);
  fault_file->name = name;
  fault_file->real->pMethods = nullptr;
  int rc = g_real_vfs->xOpen(g_real_vfs, name, fault_file->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set, so set it only for a file that really opened.
  fault_file->base.pMethods = fault_file->real->pMethods != nullptr ? &kFaultIoMethods : nullptr;
  return rc;
}

int FaultDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  {
    std::lock_guard lock(g_images_mu);
    g_images->erase(name);
  }
  return g_real_vfs->xDelete(g_real_vfs, name, sync_dir);
}

int FaultAccess(sqlite3_vfs*, const char* name, int flags, int* result) {
  return g_real_vfs->xAccess(g_real_vfs, name, flags, result);
}
int FaultFullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_real_vfs->xFullPathname(g_real_vfs, name, size, out);
}
void* FaultDlOpen(sqlite3_vfs*, const char* name) { return g_real_vfs->xDlOpen(g_real_vfs, name); }
void FaultDlError(sqlite3_vfs*, int size, char* out) {
  g_real_vfs->xDlError(g_real_vfs, size, out);
}
void (*FaultDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_real_vfs->xDlSym(g_real_vfs, handle, symbol);
}
void FaultDlClose(sqlite3_vfs*, void* handle) { g_real_vfs->xDlClose(g_real_vfs, handle); }
int FaultRandomness(sqlite3_vfs*, int size, char* out) {
  return g_real_vfs->xRandomness(g_real_vfs, size, out);
}
int FaultSleep(sqlite3_vfs*, int micros) { return g_real_vfs->xSleep(g_real_vfs, micros); }
int FaultCurrentTime(sqlite3_vfs*, double* now) {
  return g_real_vfs->xCurrentTime(g_real_vfs, now);
}
int FaultGetLastError(sqlite3_vfs*, int size, char* out) {
  return g_real_vfs->xGetLastError(g_real_vfs, size, out);
}
int FaultCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* now) {
  return g_real_vfs->xCurrentTimeInt64(g_real_vfs, now);
}

int RegisterOnce() {
  g_real_vfs = sqlite3_vfs_find(nullptr);
  if (g_real_vfs == nullptr) return SQLITE_ERROR;
  static sqlite3_vfs vfs{};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real_vfs->szOsFile;
  vfs.mxPathname = g_real_vfs->mxPathname;
  vfs.zName = kFaultVfsName;
  vfs.xOpen = FaultOpen;
  vfs.xDelete = FaultDelete;
  vfs.xAccess = FaultAccess;
  vfs.xFullPathname = FaultFullPathname;
  vfs.xDlOpen = FaultDlOpen;
  vfs.xDlError = FaultDlError;
  vfs.xDlSym = FaultDlSym;
  vfs.xDlClose = FaultDlClose;
  vfs.xRandomness = FaultRandomness;
  vfs.xSleep = FaultSleep;
  vfs.xCurrentTime = FaultCurrentTime;
  vfs.xGetLastError = FaultGetLastError;
  vfs.xCurrentTimeInt64 = FaultCurrentTimeInt64;
  return sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
}

std::string FullPath(const std::string& path) {
  std::vector<char> out(static_cast<size_t>(g_real_vfs->mxPathname) + 1);
  if (g_real_vfs->xFullPathname(g_real_vfs, path.c_str(), static_cast<int>(out.size()),
                                out.data()) != SQLITE_OK) {
    return path;
  }
  return out.data();
}

Status WriteImage(const std::string& source, const std::string& dest) {
  std::string image;
  {
    std::lock_guard lock(g_images_mu);
    auto it = g_images->find(FullPath(source));
    if (it == g_images->end()) return OkStatus();  // never synced: lost with the power
    image = it->second;
  }
  return WriteFileAtomically(*Env::Default(), dest, image);
}

}  // namespace

Status RegisterFaultVfs() {
  static const int rc = RegisterOnce();
  if (rc != SQLITE_OK) {
    return Internal(std::string("registering SQLite VFS ") + kFaultVfsName + ": " +
                    sqlite3_errstr(rc));
  }
  return OkStatus();
}

void SetDurableImageTracking(bool enabled) {
  g_track_images.store(enabled, std::memory_order_release);
  if (!enabled) {
    std::lock_guard lock(g_images_mu);
    g_images->clear();
  }
}

Status WriteDurableSnapshot(const std::string& db_path, const std::string& dest_db_path) {
  WOJAK_RETURN_IF_ERROR(RegisterFaultVfs());
  WOJAK_RETURN_IF_ERROR(WriteImage(db_path, dest_db_path));
  return WriteImage(db_path + "-wal", dest_db_path + "-wal");
}

}  // namespace wojak
