// SqliteJournal: schema, batched durable appends, chain-checked replay, verification.
#include "journal/sqlite_journal.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/env.h"
#include "journal/wal_scan.h"

namespace wojak {
namespace {

constexpr char kSchemaSql[] = R"sql(
CREATE TABLE IF NOT EXISTS entries(
  seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind INTEGER NOT NULL,
  account TEXT NOT NULL, client_order_id TEXT NOT NULL, payload BLOB NOT NULL,
  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS orders(
  order_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
  account TEXT NOT NULL, strategy TEXT NOT NULL, client_order_id TEXT NOT NULL,
  symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL, product TEXT NOT NULL,
  validity TEXT NOT NULL, quantity INTEGER NOT NULL, filled_quantity INTEGER NOT NULL,
  price_paise INTEGER, trigger_price_paise INTEGER, average_price_paise INTEGER NOT NULL,
  status TEXT NOT NULL, decision_json TEXT NOT NULL, created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_seq ON orders(seq);
CREATE INDEX IF NOT EXISTS orders_by_account ON orders(account, seq);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders(status, seq);
CREATE TABLE IF NOT EXISTS trades(
  trade_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, order_id TEXT NOT NULL,
  account TEXT NOT NULL, strategy TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
  quantity INTEGER NOT NULL, price_paise INTEGER NOT NULL, time_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS trades_by_seq ON trades(seq);
CREATE INDEX IF NOT EXISTS trades_by_account ON trades(account, seq);
CREATE INDEX IF NOT EXISTS trades_by_order ON trades(order_id, seq);
CREATE TABLE IF NOT EXISTS positions(
  account TEXT NOT NULL, symbol TEXT NOT NULL, net_quantity INTEGER NOT NULL,
  buy_quantity INTEGER NOT NULL, sell_quantity INTEGER NOT NULL,
  buy_value_paise INTEGER NOT NULL, sell_value_paise INTEGER NOT NULL,
  realised_pnl_paise INTEGER NOT NULL, last_seq INTEGER NOT NULL,
  PRIMARY KEY(account, symbol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox(
  outbox_seq INTEGER PRIMARY KEY, entry_seq INTEGER NOT NULL, topic TEXT NOT NULL,
  payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql";

constexpr char kSelectEntriesSql[] =
    "SELECT seq, time_ns, kind, account, client_order_id, payload, prev_hash, hash "
    "FROM entries WHERE seq >= ?1 ORDER BY seq";

std::string SeqText(Seq seq) { return std::to_string(seq); }

// The last seq SQLite can read from the journal at `path` (0 when none or unreadable).
Seq LastReadableSeq(const std::string& path) {
  auto db = OpenSqlite(path, OpenMode::kReadOnly, "");
  if (!db.ok()) return 0;
  auto select = Statement::Prepare(db->get(), "SELECT coalesce(max(seq), 0) FROM entries");
  if (!select.ok() || sqlite3_step(select->get()) != SQLITE_ROW) return 0;
  return static_cast<Seq>(select->ColumnInt64(0));
}

// DATA_LOSS naming the first entry a damaged WAL loses, when it loses acknowledged ones.
Status CheckWal(const std::string& path) {
  Status wal = CheckWalBeforeRecovery(path);
  if (wal.ok()) return wal;
  return DataLoss("entry seq " + SeqText(LastReadableSeq(path) + 1) +
                  " and later are lost: " + wal.message());
}

// Copies a 32-byte hash column; anything else is a damaged row.
Status ReadHashColumn(const Statement& row, int column, Seq seq, std::string_view name, Hash& out) {
  std::string_view blob = row.ColumnBlob(column);
  if (blob.size() != out.size()) {
    return DataLoss("entry seq " + SeqText(seq) + ": " + std::string(name) + " has " +
                    std::to_string(blob.size()) + " bytes, expected 32");
  }
  std::memcpy(out.data(), blob.data(), out.size());
  return OkStatus();
}

// Fills `entry` from the current row of kSelectEntriesSql, reusing its string capacity.
Status ReadEntryRow(const Statement& row, Entry& entry) {
  entry.seq = static_cast<Seq>(row.ColumnInt64(0));
  entry.time_ns = row.ColumnInt64(1);
  entry.kind = static_cast<EntryKind>(row.ColumnInt64(2));
  entry.account.assign(row.ColumnText(3));
  entry.client_order_id.assign(row.ColumnText(4));
  entry.payload.assign(row.ColumnBlob(5));
  WOJAK_RETURN_IF_ERROR(ReadHashColumn(row, 6, entry.seq, "prev_hash", entry.prev_hash));
  return ReadHashColumn(row, 7, entry.seq, "hash", entry.hash);
}

// Streams entries with seq >= start through `verifier` and then `apply` (if any). Counts the
// entries that passed in *count.
Status WalkEntries(sqlite3* db, Seq start, ChainVerifier& verifier,
                   const std::function<Status(const Entry&)>* apply, uint64_t* count) {
  WOJAK_ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, kSelectEntriesSql));
  select.BindInt64(1, static_cast<int64_t>(start));
  Entry entry;
  while (true) {
    int rc = sqlite3_step(select.get());
    if (rc == SQLITE_DONE) return OkStatus();
    if (rc != SQLITE_ROW) {
      return SqliteStatus(db, rc, "reading entry after seq " + SeqText(verifier.last_seq()));
    }
    WOJAK_RETURN_IF_ERROR(ReadEntryRow(select, entry));
    WOJAK_RETURN_IF_ERROR(verifier.Check(entry));
    if (apply != nullptr) {
      Status applied = (*apply)(entry);
      if (!applied.ok()) return applied.WithContext("applying entry seq " + SeqText(entry.seq));
    }
    ++*count;
  }
}

// Reads one entry by seq; NOT_FOUND if absent.
StatusOr<Entry> ReadEntry(sqlite3* db, Seq seq) {
  WOJAK_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db,
                         "SELECT seq, time_ns, kind, account, client_order_id, payload, "
                         "prev_hash, hash FROM entries WHERE seq = ?1"));
  select.BindInt64(1, static_cast<int64_t>(seq));
  int rc = sqlite3_step(select.get());
  if (rc == SQLITE_DONE) return NotFound("no entry seq " + SeqText(seq));
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "reading entry seq " + SeqText(seq));
  Entry entry;
  WOJAK_RETURN_IF_ERROR(ReadEntryRow(select, entry));
  return entry;
}

// The lowest and highest seq, both 0 for an empty journal.
Status ReadSeqRange(sqlite3* db, Seq& first, Seq& last) {
  WOJAK_ASSIGN_OR_RETURN(Statement select,
                         Statement::Prepare(db, "SELECT min(seq), max(seq) FROM entries"));
  int rc = sqlite3_step(select.get());
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "reading the seq range");
  first = static_cast<Seq>(select.ColumnInt64(0));
  last = static_cast<Seq>(select.ColumnInt64(1));
  return OkStatus();
}

StatusOr<std::string> ReadMetaValue(sqlite3* db, std::string_view key) {
  WOJAK_ASSIGN_OR_RETURN(Statement select,
                         Statement::Prepare(db, "SELECT value FROM meta WHERE key = ?1"));
  select.BindText(1, key);
  int rc = sqlite3_step(select.get());
  if (rc == SQLITE_DONE) return NotFound("no meta key " + std::string(key));
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "reading meta " + std::string(key));
  return std::string(select.ColumnText(0));
}

Status CheckSchemaVersion(sqlite3* db) {
  StatusOr<std::string> version = ReadMetaValue(db, "schema_version");
  if (!version.ok()) return version.status().WithContext("journal schema version");
  if (*version != std::to_string(kJournalSchemaVersion)) {
    return FailedPrecondition("journal schema version is " + *version + ", this build reads " +
                              std::to_string(kJournalSchemaVersion));
  }
  return OkStatus();
}

void BindOptionalInt64(Statement& statement, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    statement.BindInt64(index, *value);
  } else {
    statement.BindNull(index);
  }
}

}  // namespace

std::string JournalPathForDataDir(const std::string& data_dir) {
  return data_dir + "/" + kJournalFileName;
}

// ---------------------------------------------------------------------------------------------
// Background checkpointer. SQLite restarts the WAL from its beginning only when a write
// transaction starts with every frame already copied into the database. Under continuous load a
// checkpoint on another thread always trails the writer by the commits made while it ran, so on
// its own it rarely lets the WAL restart and the WAL grows to the backstop. Hence a hand-off: this
// thread copies the bulk of the WAL (PASSIVE: the writer keeps committing meanwhile), then the
// writer's next commit hook copies the few frames left, cheaply, and the following transaction
// restarts the WAL.

class SqliteJournal::Checkpointer {
 public:
  Checkpointer(SqliteDb db, std::function<void(const Status&)> on_error)
      : db_(std::move(db)), on_error_(std::move(on_error)), thread_([this] { Run(); }) {}

  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Asks for a checkpoint unless one is queued or running.
  void Request() {
    {
      std::lock_guard lock(mu_);
      if (requested_ || running_) return;
      requested_ = true;
    }
    wake_.notify_one();
  }

  // True once after each background checkpoint: the writer should copy what is left.
  bool TakeFinished() { return finished_.exchange(false, std::memory_order_acq_rel); }
  uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_acquire); }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      running_ = true;
      lock.unlock();
      int rc =
          sqlite3_wal_checkpoint_v2(db_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (rc == SQLITE_OK) {
        checkpoints_.fetch_add(1, std::memory_order_acq_rel);
        finished_.store(true, std::memory_order_release);
      } else if ((rc & 0xff) != SQLITE_BUSY) {
        // BUSY only means another checkpoint is running; anything else is a storage failure.
        on_error_(SqliteStatus(db_.get(), rc, "background checkpoint"));
      }
      lock.lock();
      running_ = false;
    }
  }

  SqliteDb db_;
  std::function<void(const Status&)> on_error_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> checkpoints_{0};
  std::thread thread_;  // last: starts after everything it uses is constructed
};

// Prepared once, reused for every batch.
struct SqliteJournal::WriteStatements {
  Statement begin, commit, rollback;
  Statement insert_entry, upsert_order, insert_trade, upsert_position, insert_outbox, upsert_meta;

  static StatusOr<std::unique_ptr<WriteStatements>> Prepare(sqlite3* db) {
    auto statements = std::make_unique<WriteStatements>();
    WOJAK_ASSIGN_OR_RETURN(statements->begin, Statement::Prepare(db, "BEGIN IMMEDIATE"));
    WOJAK_ASSIGN_OR_RETURN(statements->commit, Statement::Prepare(db, "COMMIT"));
    WOJAK_ASSIGN_OR_RETURN(statements->rollback, Statement::Prepare(db, "ROLLBACK"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->insert_entry,
        Statement::Prepare(db,
                           "INSERT INTO entries(seq, time_ns, kind, account, client_order_id, "
                           "payload, prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->upsert_order,
        Statement::Prepare(
            db,
            "INSERT INTO orders(order_id, seq, last_seq, account, strategy, client_order_id, "
            "symbol, side, order_type, product, validity, quantity, filled_quantity, "
            "price_paise, trigger_price_paise, average_price_paise, status, decision_json, "
            "created_ns, updated_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
            "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) ON CONFLICT(order_id) DO UPDATE SET "
            "seq=excluded.seq, last_seq=excluded.last_seq, account=excluded.account, "
            "strategy=excluded.strategy, client_order_id=excluded.client_order_id, "
            "symbol=excluded.symbol, side=excluded.side, order_type=excluded.order_type, "
            "product=excluded.product, validity=excluded.validity, quantity=excluded.quantity, "
            "filled_quantity=excluded.filled_quantity, price_paise=excluded.price_paise, "
            "trigger_price_paise=excluded.trigger_price_paise, "
            "average_price_paise=excluded.average_price_paise, status=excluded.status, "
            // An order's first decision never changes: updates leave decision_json empty so the
            // engine does not serialise it again on every fill.
            "decision_json=CASE WHEN excluded.decision_json = '' THEN orders.decision_json "
            "ELSE excluded.decision_json END, created_ns=excluded.created_ns, "
            "updated_ns=excluded.updated_ns"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->insert_trade,
        Statement::Prepare(db,
                           "INSERT INTO trades(trade_id, seq, order_id, account, strategy, "
                           "symbol, side, quantity, price_paise, time_ns) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->upsert_position,
        Statement::Prepare(
            db,
            "INSERT INTO positions(account, symbol, net_quantity, buy_quantity, sell_quantity, "
            "buy_value_paise, sell_value_paise, realised_pnl_paise, last_seq) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(account, symbol) DO UPDATE "
            "SET net_quantity=excluded.net_quantity, buy_quantity=excluded.buy_quantity, "
            "sell_quantity=excluded.sell_quantity, buy_value_paise=excluded.buy_value_paise, "
            "sell_value_paise=excluded.sell_value_paise, "
            "realised_pnl_paise=excluded.realised_pnl_paise, last_seq=excluded.last_seq"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->insert_outbox,
        Statement::Prepare(db,
                           "INSERT INTO outbox(outbox_seq, entry_seq, topic, payload) "
                           "VALUES(?1, ?2, ?3, ?4)"));
    WOJAK_ASSIGN_OR_RETURN(
        statements->upsert_meta,
        Statement::Prepare(db,
                           "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value"));
    return statements;
  }
};

// ---------------------------------------------------------------------------------------------

SqliteJournal::SqliteJournal(JournalOptions options) : options_(std::move(options)) {}

// Members go in reverse order: the checkpointer stops before the connections close.
SqliteJournal::~SqliteJournal() = default;

StatusOr<std::unique_ptr<SqliteJournal>> SqliteJournal::Open(const JournalOptions& options) {
  if (options.path.empty()) return InvalidArgument("JournalOptions.path is empty");
  std::unique_ptr<SqliteJournal> journal(new SqliteJournal(options));
  Status status = journal->Initialize();
  if (!status.ok()) return status.WithContext("opening journal " + options.path);
  return journal;
}

Status SqliteJournal::Initialize() {
  WOJAK_RETURN_IF_ERROR(Env::Default()->CreateDirs(DirName(options_.path)));
  // Before the writer opens: SQLite's recovery would drop commits behind a damaged WAL frame
  // without a word, and the first append would overwrite what is left of them.
  WOJAK_RETURN_IF_ERROR(CheckWal(options_.path));
  WOJAK_ASSIGN_OR_RETURN(writer_,
                         OpenSqlite(options_.path, OpenMode::kReadWriteCreate, options_.vfs));
  WOJAK_RETURN_IF_ERROR(ApplyDurableSettings(writer_.get(), options_.tuning));
  WOJAK_RETURN_IF_ERROR(ExecSql(writer_.get(), "BEGIN IMMEDIATE"));
  Status created = ExecSql(writer_.get(), kSchemaSql);
  if (created.ok()) {
    created = ExecSql(writer_.get(),
                      ("INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '" +
                       std::to_string(kJournalSchemaVersion) + "')")
                          .c_str());
  }
  if (created.ok()) created = ExecSql(writer_.get(), "COMMIT");
  if (!created.ok()) {
    ExecSql(writer_.get(), "ROLLBACK").IgnoreError();
    return created;
  }
  WOJAK_RETURN_IF_ERROR(CheckSchemaVersion(writer_.get()));
  WOJAK_ASSIGN_OR_RETURN(statements_, WriteStatements::Prepare(writer_.get()));

  WOJAK_ASSIGN_OR_RETURN(reader_, OpenSqlite(options_.path, OpenMode::kReadOnly, options_.vfs));
  WOJAK_RETURN_IF_ERROR(
      ExecSql(reader_.get(),
              ("PRAGMA busy_timeout=" + std::to_string(options_.tuning.busy_timeout_ms)).c_str()));
  WOJAK_RETURN_IF_ERROR(LoadChainTail());

  if (options_.background_checkpoint_pages > 0) {
    WOJAK_ASSIGN_OR_RETURN(SqliteDb checkpoint_db,
                           OpenSqlite(options_.path, OpenMode::kReadWrite, options_.vfs));
    WOJAK_RETURN_IF_ERROR(ExecSql(
        checkpoint_db.get(),
        ("PRAGMA busy_timeout=" + std::to_string(options_.tuning.busy_timeout_ms)).c_str()));
    // A connection attaches to the WAL on its first read; until then it cannot checkpoint.
    WOJAK_RETURN_IF_ERROR(ExecSql(checkpoint_db.get(), "SELECT count(*) FROM sqlite_master"));
    checkpointer_ =
        std::make_unique<Checkpointer>(std::move(checkpoint_db), [this](const Status& error) {
          Seq next;
          {
            std::lock_guard lock(state_mu_);
            next = stats_.last_seq + 1;
          }
          Fail(next, error).IgnoreError();
        });
  }
  // Replaces SQLite's own autocheckpoint hook; OnWalCommit applies the same backstop itself.
  sqlite3_wal_hook(writer_.get(), &SqliteJournal::OnWalCommit, this);
  return OkStatus();
}

Status SqliteJournal::LoadChainTail() {
  Seq first = 0;
  Seq last = 0;
  WOJAK_RETURN_IF_ERROR(ReadSeqRange(reader_.get(), first, last));
  JournalStats loaded;
  if (options_.verify_on_open) {
    ChainVerifier verifier(0, kGenesisHash);
    WOJAK_RETURN_IF_ERROR(WalkEntries(reader_.get(), 0, verifier, nullptr, &loaded.entries));
    loaded.last_seq = verifier.last_seq();
    loaded.last_hash = verifier.last_hash();
  } else if (last > 0) {
    WOJAK_ASSIGN_OR_RETURN(Entry tail, ReadEntry(reader_.get(), last));
    // Checks the tail's own hash: appending after a damaged tail would extend a broken chain.
    ChainVerifier verifier(last - 1, tail.prev_hash);
    WOJAK_RETURN_IF_ERROR(verifier.Check(tail));
    loaded.last_seq = last;
    loaded.last_hash = tail.hash;
    loaded.entries = last - first + 1;
  }
  std::lock_guard lock(state_mu_);
  stats_ = loaded;
  return OkStatus();
}

int SqliteJournal::OnWalCommit(void* journal_pointer, sqlite3* db, const char* database,
                               int wal_pages) {
  auto* journal = static_cast<SqliteJournal*>(journal_pointer);
  const JournalOptions& options = journal->options_;
  Checkpointer* checkpointer = journal->checkpointer_.get();
  uint64_t pages = static_cast<uint64_t>(wal_pages);
  if (pages < journal->wal_pages_.exchange(pages, std::memory_order_acq_rel)) {
    journal->wal_restarts_.fetch_add(1, std::memory_order_acq_rel);
  }
  bool checkpoint_here = options.tuning.wal_autocheckpoint_pages > 0 &&
                         wal_pages >= options.tuning.wal_autocheckpoint_pages;
  if (checkpointer != nullptr && checkpointer->TakeFinished()) {
    checkpoint_here = true;  // finish the background checkpoint's work
  } else if (checkpointer != nullptr && wal_pages >= options.background_checkpoint_pages) {
    checkpointer->Request();
  }
  if (checkpoint_here) {
    journal->writer_checkpoints_.fetch_add(1, std::memory_order_acq_rel);
    int rc = sqlite3_wal_checkpoint_v2(db, database, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // The commit itself has succeeded; a checkpoint failure stops later appends instead.
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
      Seq next;
      {
        std::lock_guard lock(journal->state_mu_);
        next = journal->stats_.last_seq + 1;
      }
      journal->Fail(next, SqliteStatus(db, rc, "checkpoint after commit")).IgnoreError();
    }
  }
  return SQLITE_OK;
}

Status SqliteJournal::Fail(Seq at_seq, const Status& cause) {
  std::lock_guard lock(state_mu_);
  if (failure_.ok()) {
    failure_ = FailedPrecondition("journal failed at seq " + SeqText(at_seq) + ": " +
                                  cause.ToString() + "; restart to recover");
  }
  return cause;
}

Status SqliteJournal::health() const {
  std::lock_guard lock(state_mu_);
  return failure_;
}

WalStats SqliteJournal::wal_stats() const {
  WalStats stats;
  stats.wal_pages = wal_pages_.load(std::memory_order_acquire);
  stats.wal_restarts = wal_restarts_.load(std::memory_order_acquire);
  stats.writer_checkpoints = writer_checkpoints_.load(std::memory_order_acquire);
  if (checkpointer_ != nullptr) stats.background_checkpoints = checkpointer_->checkpoints();
  return stats;
}

JournalStats SqliteJournal::stats() const {
  std::lock_guard lock(state_mu_);
  return stats_;
}

Status SqliteJournal::AppendBatch(std::span<Entry> entries, const ProjectionBatch& projections) {
  std::lock_guard write_lock(write_mu_);
  JournalStats current;
  {
    std::lock_guard lock(state_mu_);
    if (!failure_.ok()) return failure_;
    current = stats_;
  }
  const Seq next = current.last_seq + 1;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].seq != next + i) {
      return Fail(next,
                  InvalidArgument("entries[" + std::to_string(i) + "] has seq " +
                                  SeqText(entries[i].seq) + ", expected " + SeqText(next + i)));
    }
  }
  if (entries.empty() && projections.orders.empty() && projections.trades.empty() &&
      projections.positions.empty() && projections.outbox.empty()) {
    return OkStatus();
  }

  Hash prev = current.last_hash;
  for (Entry& entry : entries) {
    entry.prev_hash = prev;
    entry.hash = hasher_.Compute(prev, entry);
    prev = entry.hash;
  }

  Status written = WriteBatch(entries, projections);
  if (!written.ok()) {
    // Best effort: after an I/O error SQLite may already have rolled back.
    if (!sqlite3_get_autocommit(writer_.get())) {
      StepDone(writer_.get(), statements_->rollback, "ROLLBACK").IgnoreError();
    }
    return Fail(next, written);
  }

  std::lock_guard lock(state_mu_);
  stats_.last_seq += entries.size();
  stats_.entries += entries.size();
  stats_.last_hash = prev;
  return OkStatus();
}

Status SqliteJournal::WriteBatch(std::span<const Entry> entries,
                                 const ProjectionBatch& projections) {
  sqlite3* db = writer_.get();
  WriteStatements& s = *statements_;
  WOJAK_RETURN_IF_ERROR(StepDone(db, s.begin, "BEGIN IMMEDIATE"));

  for (const Entry& entry : entries) {
    Statement& insert = s.insert_entry;
    insert.BindInt64(1, static_cast<int64_t>(entry.seq));
    insert.BindInt64(2, entry.time_ns);
    insert.BindInt64(3, static_cast<int64_t>(entry.kind));
    insert.BindText(4, entry.account);
    insert.BindText(5, entry.client_order_id);
    insert.BindBlob(6, entry.payload.data(), entry.payload.size());
    insert.BindBlob(7, entry.prev_hash.data(), entry.prev_hash.size());
    insert.BindBlob(8, entry.hash.data(), entry.hash.size());
    WOJAK_RETURN_IF_ERROR(StepDone(db, insert, "inserting entry seq " + SeqText(entry.seq)));
  }
  for (const OrderRow& order : projections.orders) {
    Statement& upsert = s.upsert_order;
    upsert.BindText(1, order.order_id);
    upsert.BindInt64(2, static_cast<int64_t>(order.seq));
    upsert.BindInt64(3, static_cast<int64_t>(order.last_seq));
    upsert.BindText(4, order.account);
    upsert.BindText(5, order.strategy);
    upsert.BindText(6, order.client_order_id);
    upsert.BindText(7, order.symbol);
    upsert.BindText(8, order.side);
    upsert.BindText(9, order.order_type);
    upsert.BindText(10, order.product);
    upsert.BindText(11, order.validity);
    upsert.BindInt64(12, order.quantity);
    upsert.BindInt64(13, order.filled_quantity);
    BindOptionalInt64(upsert, 14, order.price_paise);
    BindOptionalInt64(upsert, 15, order.trigger_price_paise);
    upsert.BindInt64(16, order.average_price_paise);
    upsert.BindText(17, order.status);
    upsert.BindText(18, order.decision_json);
    upsert.BindInt64(19, order.created_ns);
    upsert.BindInt64(20, order.updated_ns);
    WOJAK_RETURN_IF_ERROR(StepDone(db, upsert, "writing order " + order.order_id));
  }
  for (const TradeRow& trade : projections.trades) {
    Statement& insert = s.insert_trade;
    insert.BindText(1, trade.trade_id);
    insert.BindInt64(2, static_cast<int64_t>(trade.seq));
    insert.BindText(3, trade.order_id);
    insert.BindText(4, trade.account);
    insert.BindText(5, trade.strategy);
    insert.BindText(6, trade.symbol);
    insert.BindText(7, trade.side);
    insert.BindInt64(8, trade.quantity);
    insert.BindInt64(9, trade.price_paise);
    insert.BindInt64(10, trade.time_ns);
    WOJAK_RETURN_IF_ERROR(StepDone(db, insert, "inserting trade " + trade.trade_id));
  }
  for (const PositionRow& position : projections.positions) {
    Statement& upsert = s.upsert_position;
    upsert.BindText(1, position.account);
    upsert.BindText(2, position.symbol);
    upsert.BindInt64(3, position.net_quantity);
    upsert.BindInt64(4, position.buy_quantity);
    upsert.BindInt64(5, position.sell_quantity);
    upsert.BindInt64(6, position.buy_value_paise);
    upsert.BindInt64(7, position.sell_value_paise);
    upsert.BindInt64(8, position.realised_pnl_paise);
    upsert.BindInt64(9, static_cast<int64_t>(position.last_seq));
    WOJAK_RETURN_IF_ERROR(
        StepDone(db, upsert, "writing position " + position.account + "/" + position.symbol));
  }
  for (const OutboxRow& row : projections.outbox) {
    Statement& insert = s.insert_outbox;
    // outbox_seq 0 lets SQLite assign max + 1 (INTEGER PRIMARY KEY given NULL).
    if (row.outbox_seq == 0) {
      insert.BindNull(1);
    } else {
      insert.BindInt64(1, static_cast<int64_t>(row.outbox_seq));
    }
    insert.BindInt64(2, static_cast<int64_t>(row.entry_seq));
    insert.BindText(3, row.topic);
    insert.BindText(4, row.payload);
    WOJAK_RETURN_IF_ERROR(
        StepDone(db, insert, "inserting outbox row for entry seq " + SeqText(row.entry_seq)));
  }
  return StepDone(db, s.commit, "COMMIT");
}

Status SqliteJournal::Replay(Seq from, const std::function<Status(const Entry&)>& apply) {
  std::lock_guard read_lock(read_mu_);
  sqlite3* db = reader_.get();
  // One read transaction for the whole walk: a consistent snapshot even while appends go on.
  WOJAK_RETURN_IF_ERROR(ExecSql(db, "BEGIN"));
  Seq start = std::max<Seq>(from, 1);
  Seq prev_seq = 0;
  Hash prev_hash = kGenesisHash;
  Status status;
  if (start > 1) {
    // The link into `start` needs the entry before it, whose own hash is checked too.
    StatusOr<Entry> before = ReadEntry(db, start - 1);
    if (before.ok()) {
      ChainVerifier link(start - 2, before->prev_hash);
      status = link.Check(*before);
      prev_seq = start - 1;
      prev_hash = before->hash;
    } else if (before.status().code() == StatusCode::kNotFound) {
      Seq first = 0;
      Seq last = 0;
      status = ReadSeqRange(db, first, last);
      if (status.ok() && last >= start) {
        status = DataLoss("entry seq " + SeqText(start - 1) + " is missing");
      } else if (status.ok()) {
        ExecSql(db, "COMMIT").IgnoreError();
        return OkStatus();  // nothing at or after `from`
      }
    } else {
      status = before.status();
    }
  }
  if (status.ok()) {
    ChainVerifier verifier(prev_seq, prev_hash);
    uint64_t replayed = 0;
    status = WalkEntries(db, start, verifier, &apply, &replayed);
  }
  ExecSql(db, "COMMIT").IgnoreError();
  return status;
}

Status SqliteJournal::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard write_lock(write_mu_);
  Seq next;
  {
    std::lock_guard lock(state_mu_);
    if (!failure_.ok()) return failure_;
    next = stats_.last_seq + 1;
  }
  Statement& upsert = statements_->upsert_meta;
  upsert.BindText(1, key);
  upsert.BindText(2, value);
  Status status = StepDone(writer_.get(), upsert, "writing meta " + std::string(key));
  if (!status.ok()) return Fail(next, status);
  return OkStatus();
}

StatusOr<std::string> SqliteJournal::GetMeta(std::string_view key) {
  std::lock_guard read_lock(read_mu_);
  return ReadMetaValue(reader_.get(), key);
}

StatusOr<std::vector<OutboxRow>> SqliteJournal::ReadOutbox(Seq after_outbox_seq, size_t limit) {
  std::lock_guard read_lock(read_mu_);
  sqlite3* db = reader_.get();
  WOJAK_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db,
                         "SELECT outbox_seq, entry_seq, topic, payload FROM outbox "
                         "WHERE outbox_seq > ?1 ORDER BY outbox_seq LIMIT ?2"));
  select.BindInt64(1, static_cast<int64_t>(after_outbox_seq));
  select.BindInt64(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<OutboxRow> rows;
  while (true) {
    int rc = sqlite3_step(select.get());
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "reading the outbox");
    OutboxRow& row = rows.emplace_back();
    row.outbox_seq = static_cast<Seq>(select.ColumnInt64(0));
    row.entry_seq = static_cast<Seq>(select.ColumnInt64(1));
    row.topic = select.ColumnText(2);
    row.payload = select.ColumnText(3);
  }
}

Status SqliteJournal::Verify(const std::string& path, VerifyReport* report) {
  VerifyReport local;
  VerifyReport& out = report != nullptr ? *report : local;
  out = VerifyReport{};
  if (!Env::Default()->FileExists(path)) return NotFound("no journal at " + path);
  Status wal = CheckWal(path);
  WOJAK_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, OpenMode::kReadOnly, ""));

  // quick_check reads every page and checks b-tree structure (not index contents): enough to
  // catch a damaged file without the cost of a full integrity_check.
  WOJAK_ASSIGN_OR_RETURN(Statement check, Statement::Prepare(db.get(), "PRAGMA quick_check"));
  int rc;
  while ((rc = sqlite3_step(check.get())) == SQLITE_ROW) {
    if (!out.integrity.empty()) out.integrity += "; ";
    out.integrity += check.ColumnText(0);
  }
  if (rc != SQLITE_DONE) {
    out.problem = SqliteStatus(db.get(), rc, "quick_check").ToString();
    return DataLoss(out.problem);
  }
  if (out.integrity != "ok") {
    out.problem = "SQLite integrity check failed: " + out.integrity;
  }

  Status schema = CheckSchemaVersion(db.get());
  if (!schema.ok()) {
    if (out.problem.empty()) out.problem = schema.ToString();
    return schema.code() == StatusCode::kFailedPrecondition ? schema : DataLoss(out.problem);
  }

  WOJAK_RETURN_IF_ERROR(ExecSql(db.get(), "BEGIN"));
  ChainVerifier verifier(0, kGenesisHash);
  Status chain = WalkEntries(db.get(), 0, verifier, nullptr, &out.entries);
  ExecSql(db.get(), "COMMIT").IgnoreError();
  out.first_seq = out.entries > 0 ? 1 : 0;
  out.last_seq = verifier.last_seq();
  out.last_hash = verifier.last_hash();
  if (!chain.ok()) {
    out.first_bad_seq = verifier.last_seq() + 1;
    // A chain error names the bad entry, which is more useful than a page-level complaint.
    out.problem = chain.message();
    return DataLoss(chain.message());
  }
  if (!wal.ok()) {
    // The chain SQLite shows is intact, but it ends early: the entries after it are lost.
    out.first_bad_seq = verifier.last_seq() + 1;
    out.problem = wal.message();
    return wal;
  }
  if (!out.problem.empty()) return DataLoss(out.problem);
  return OkStatus();
}

}  // namespace wojak
