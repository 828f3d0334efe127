// WAL frame scan: the checksum and salt rules of SQLite's wal.c (walIndexRecover,
// walDecodeFrame, walChecksumBytes), applied without trusting the first bad frame to end the log.
#include "journal/wal_scan.h"

#include "common/env.h"

namespace wojak {
namespace {

constexpr size_t kHeaderSize = 32;
constexpr size_t kFrameHeaderSize = 24;
constexpr uint32_t kMagicLittleEndian = 0x377f0682;  // checksums over little-endian words
constexpr uint32_t kMagicBigEndian = 0x377f0683;     // checksums over big-endian words

uint32_t BigEndian32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}

uint32_t LittleEndian32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3])) << 24;
}

struct Checksum {
  uint32_t s1 = 0, s2 = 0;
  bool operator==(const Checksum&) const = default;
};

// SQLite's Fletcher-like checksum, continued from `in`; `bytes` is a multiple of 8 long.
Checksum Continue(Checksum in, std::string_view bytes, bool big_endian) {
  for (size_t at = 0; at + 8 <= bytes.size(); at += 8) {
    const uint32_t a = big_endian ? BigEndian32(bytes, at) : LittleEndian32(bytes, at);
    const uint32_t b = big_endian ? BigEndian32(bytes, at + 4) : LittleEndian32(bytes, at + 4);
    in.s1 += a + in.s2;
    in.s2 += b + in.s1;
  }
  return in;
}

Checksum Stored(std::string_view bytes, size_t at) {
  return {BigEndian32(bytes, at), BigEndian32(bytes, at + 4)};
}

}  // namespace

WalScan ScanWal(std::string_view wal) {
  WalScan scan;
  if (wal.size() < kHeaderSize) return scan;
  const uint32_t magic = BigEndian32(wal, 0);
  const bool big_endian = magic == kMagicBigEndian;
  const uint32_t stored_page_size = BigEndian32(wal, 8);
  // 65536 does not fit the field's 16 significant bits and is stored as 1.
  const uint32_t page_size = stored_page_size == 1 ? 65536 : stored_page_size;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    scan.header_bad = true;
    return scan;
  }
  scan.page_size = page_size;
  const Checksum header_checksum = Stored(wal, 24);
  scan.header_bad = (magic != kMagicLittleEndian && magic != kMagicBigEndian) ||
                    Continue({}, wal.substr(0, 24), big_endian) != header_checksum;
  // Every frame of a generation repeats the header's salts; with a damaged header, the first
  // frame's copy is the better witness.
  const size_t frame_size = kFrameHeaderSize + page_size;
  const std::string_view salts = scan.header_bad && wal.size() >= kHeaderSize + frame_size
                                     ? wal.substr(kHeaderSize + 8, 8)
                                     : wal.substr(16, 8);

  // Each frame is checked against the checksum stored in the one before it, so one damaged
  // frame does not hide the intact frames written after it.
  Checksum previous = header_checksum;
  bool in_recovered_prefix = !scan.header_bad;
  bool past_bad = scan.header_bad;
  bool bad_frame_commits = false;
  for (size_t at = kHeaderSize; at + frame_size <= wal.size(); at += frame_size) {
    ++scan.frames;
    const bool this_generation = wal.compare(at + 8, 8, salts) == 0;
    const bool is_commit = BigEndian32(wal, at + 4) != 0;
    Checksum computed = Continue(previous, wal.substr(at, 8), big_endian);
    computed = Continue(computed, wal.substr(at + kFrameHeaderSize, page_size), big_endian);
    const Checksum stored = Stored(wal, at + 16);
    const bool intact = this_generation && BigEndian32(wal, at) != 0 && computed == stored;
    previous = stored;
    if (intact && in_recovered_prefix) {
      ++scan.recovered_frames;
      continue;
    }
    if (!past_bad) {
      past_bad = true;
      in_recovered_prefix = false;
      scan.first_bad_frame = scan.frames;
      scan.first_bad_offset = at;
      // A frame of this generation whose content rotted still says whether it ended its
      // transaction; a frame of an older generation (never overwritten) says nothing.
      bad_frame_commits = this_generation && is_commit;
      continue;
    }
    if (intact && is_commit) ++scan.commits_after_bad;
  }
  // The transaction holding the bad frame ends at the next commit (or at the bad frame itself);
  // if a complete transaction follows that one, the bad frame's transaction was acknowledged.
  scan.loses_acknowledged_commits =
      scan.commits_after_bad >= 2 || (bad_frame_commits && scan.commits_after_bad >= 1);
  return scan;
}

Status CheckWalBeforeRecovery(const std::string& db_path) {
  const std::string wal_path = db_path + "-wal";
  Env* env = Env::Default();
  if (!env->FileExists(wal_path)) return OkStatus();
  WOJAK_ASSIGN_OR_RETURN(std::string wal, env->ReadFileToString(wal_path));
  const WalScan scan = ScanWal(wal);
  if (!scan.loses_acknowledged_commits) return OkStatus();
  const std::string where = scan.first_bad_frame == 0
                                ? std::string("the WAL header")
                                : "frame " + std::to_string(scan.first_bad_frame) +
                                      " (byte offset " + std::to_string(scan.first_bad_offset) +
                                      ")";
  return DataLoss(wal_path + ": " + where + " is corrupt and " +
                  std::to_string(scan.commits_after_bad) +
                  " committed transactions follow it; SQLite's recovery would silently drop "
                  "acknowledged entries");
}

}  // namespace wojak
