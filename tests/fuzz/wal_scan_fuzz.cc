// Fuzzes the WAL frame scanner that runs before every journal open: no input crashes it, its
// counts are consistent, and a torn partial frame at the end never changes the verdict.
#include <string>

#include "fuzz/fuzz_check.h"
#include "journal/wal_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wojak;
  const std::string_view wal = fuzz::AsText(data, size);
  const WalScan scan = ScanWal(wal);
  fuzz::Check(scan.recovered_frames <= scan.frames, "recovery keeps at most every frame");
  fuzz::Check(scan.first_bad_frame <= scan.frames, "the first bad frame is a frame of the file");
  fuzz::Check(scan.commits_after_bad <= scan.frames, "commits after the bad frame are frames");
  const bool clean = !scan.header_bad && scan.first_bad_frame == 0;
  if (clean) {
    fuzz::Check(scan.recovered_frames == scan.frames, "a clean WAL is recovered whole");
    fuzz::Check(!scan.loses_acknowledged_commits, "a clean WAL loses nothing");
  }
  if (scan.page_size != 0) {
    // A write torn inside the next frame leaves a partial frame, which recovery ignores: grow
    // the partial tail (if any) to one byte short of a whole frame.
    const size_t frame_size = 24 + scan.page_size;
    const size_t partial = (wal.size() - 32) % frame_size;
    std::string torn(wal);
    torn.append(frame_size - 1 - partial, '\x5a');
    const WalScan again = ScanWal(torn);
    fuzz::Check(again.frames == scan.frames && again.recovered_frames == scan.recovered_frames &&
                    again.loses_acknowledged_commits == scan.loses_acknowledged_commits,
                "a torn partial frame at the end changes nothing");
  }
  return 0;
}
