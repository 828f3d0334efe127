// Reads a SQLite WAL file frame by frame to tell a torn last write from corruption that SQLite's
// own recovery would silently turn into lost commits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wojak {

// What a WAL holds (https://sqlite.org/fileformat2.html#walformat). SQLite's recovery keeps the
// frames up to the first one whose checksum or salt does not match and drops everything after
// it without a word. That is right for a torn last transaction, which was never acknowledged,
// but wrong for a damaged frame that complete transactions follow: a commit is only written
// after the previous one's fsync returned, so the transaction holding the damaged frame and
// every complete one after it (but the last) were acknowledged.
struct WalScan {
  uint32_t page_size = 0;
  uint64_t frames = 0;            // whole frames in the file, of any generation
  uint64_t recovered_frames = 0;  // the prefix SQLite's recovery accepts
  bool header_bad = false;        // the WAL header's magic or checksum is wrong
  uint64_t first_bad_frame = 0;   // 1-based; 0 = none (or only the header is bad)
  uint64_t first_bad_offset = 0;  // byte offset of the first bad frame (0 for the header)
  // Intact commit frames of this WAL generation after the first bad frame (or header).
  uint64_t commits_after_bad = 0;
  // Recovery would drop at least one transaction that was acknowledged.
  bool loses_acknowledged_commits = false;
};

// Scans WAL bytes. Fewer than 32 bytes (no WAL, or an empty one) scans as clean.
WalScan ScanWal(std::string_view wal);

// Scans the WAL beside the database at `db_path` (db_path + "-wal"), if there is one. DATA_LOSS
// naming the bad frame and its offset when recovery would lose acknowledged commits.
Status CheckWalBeforeRecovery(const std::string& db_path);

}  // namespace wojak
