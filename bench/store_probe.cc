// Raw batched SQLite insert and fdatasync latency probes.
#include "store_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/env.h"
#include "journal/sqlite_util.h"

namespace wojak {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Deletes the database and its WAL/shm files, ignoring the ones that do not exist.
void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::string file = path + suffix;
    if (Env::Default()->FileExists(file)) Env::Default()->DeleteFile(file).IgnoreError();
  }
}

Status InsertRows(sqlite3* db, int rows, int batch_size) {
  WOJAK_RETURN_IF_ERROR(
      ExecSql(db,
              "CREATE TABLE probe(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, "
              "kind INTEGER NOT NULL, account TEXT NOT NULL, client_order_id TEXT NOT NULL, "
              "payload BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL)"));
  WOJAK_ASSIGN_OR_RETURN(Statement begin, Statement::Prepare(db, "BEGIN IMMEDIATE"));
  WOJAK_ASSIGN_OR_RETURN(Statement commit, Statement::Prepare(db, "COMMIT"));
  WOJAK_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db, "INSERT INTO probe VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  const std::string payload(200, 'p');
  const std::string hash(32, 'h');
  int seq = 0;
  while (seq < rows) {
    WOJAK_RETURN_IF_ERROR(StepDone(db, begin, "BEGIN"));
    for (int i = 0; i < batch_size && seq < rows; ++i) {
      ++seq;
      insert.BindInt64(1, seq);
      insert.BindInt64(2, 1'700'000'000'000'000'000 + seq);
      insert.BindInt64(3, 1);
      insert.BindText(4, "ACC1");
      insert.BindText(5, "bench-000000000001");
      insert.BindBlob(6, payload.data(), payload.size());
      insert.BindBlob(7, hash.data(), hash.size());
      insert.BindBlob(8, hash.data(), hash.size());
      WOJAK_RETURN_IF_ERROR(StepDone(db, insert, "INSERT"));
    }
    WOJAK_RETURN_IF_ERROR(StepDone(db, commit, "COMMIT"));
  }
  return OkStatus();
}

}  // namespace

StatusOr<double> RawStoreProbe(const std::string& dir, int rows, int batch_size) {
  if (rows <= 0 || batch_size <= 0) {
    return InvalidArgument("RawStoreProbe needs positive rows and batch_size");
  }
  WOJAK_RETURN_IF_ERROR(Env::Default()->CreateDirs(dir));
  const std::string path = dir + "/raw-store-probe.db";
  RemoveDatabase(path);
  SteadyClock::time_point start;
  Status status;
  {
    WOJAK_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, OpenMode::kReadWriteCreate, ""));
    status = ApplyDurableSettings(db.get(), SqliteTuning{});
    start = SteadyClock::now();
    if (status.ok()) status = InsertRows(db.get(), rows, batch_size);
  }
  double seconds = SecondsSince(start);
  RemoveDatabase(path);
  if (!status.ok()) return status.WithContext("raw store probe in " + dir);
  return rows / std::max(seconds, 1e-9);
}

StatusOr<FsyncLatency> FsyncProbe(const std::string& dir, int syncs) {
  if (syncs <= 0) return InvalidArgument("FsyncProbe needs a positive number of syncs");
  Env& env = *Env::Default();
  WOJAK_RETURN_IF_ERROR(env.CreateDirs(dir));
  const std::string path = dir + "/fsync-probe.tmp";
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(syncs));
  Status status;
  {
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env.NewWritableFile(path));
    const std::string record(64, 'f');
    for (int i = 0; i < syncs && status.ok(); ++i) {
      SteadyClock::time_point start = SteadyClock::now();
      status = file->Append(record);
      if (status.ok()) status = file->Sync();
      micros.push_back(SecondsSince(start) * 1e6);
    }
    Status closed = file->Close();
    if (status.ok()) status = closed;
  }
  env.DeleteFile(path).IgnoreError();
  if (!status.ok()) return status.WithContext("fsync probe in " + dir);
  std::sort(micros.begin(), micros.end());
  auto percentile = [&](double p) {
    size_t index = static_cast<size_t>(p * static_cast<double>(micros.size() - 1) + 0.5);
    return micros[std::min(index, micros.size() - 1)];
  };
  return FsyncLatency{.p50_us = percentile(0.50), .p99_us = percentile(0.99)};
}

}  // namespace wojak
