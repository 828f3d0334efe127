// A SQLite VFS that wraps the default one and injects storage faults, so tests can prove what the
// journal does when fsync fails, the disk fills up, or the power goes out.
#pragma once

#include <string>

#include "common/status.h"

namespace wojak {

// Name to pass in JournalOptions::vfs (or sqlite3_open_v2). Every file operation is forwarded to
// SQLite's default VFS; StorageFaults::Global() decides whether a sync fails (SQLITE_IOERR_FSYNC,
// as for EIO) or a write fails (SQLITE_FULL, as for ENOSPC), and counts syncs. With no faults set
// it behaves exactly like the default VFS.
inline constexpr char kFaultVfsName[] = "wojak-fault";

// Registers the VFS (not as the default). Idempotent and thread-safe.
Status RegisterFaultVfs();

// Power-cut simulation. While enabled, each successful sync through the fault VFS records a copy
// of the whole file: its "durable image". A file never synced has no image.
void SetDurableImageTracking(bool enabled);
// Writes the durable images of `db_path` and its WAL (`db_path`-wal) to `dest_db_path` and
// `dest_db_path`-wal: the files a machine would find after losing power at this instant.
// Opening `dest_db_path` must show every acknowledged commit.
Status WriteDurableSnapshot(const std::string& db_path, const std::string& dest_db_path);

}  // namespace wojak
