// The SQLite store underneath the share service: private files, the WAL scrub after a
// wipe (raw bytes of the database and its -wal), the schema upgrade, and the pepper check.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <mutex>

#include "shcx/share/pepper.h"
#include "shcx/share/service.h"
#include "support.h"

using namespace shcx;
using namespace shcx::share;

namespace {

struct FakeClock final : Clock {
    double t = 1800000000.0;
    double now() const override { return t; }
};

ServiceConfig config() {
    ServiceConfig c;
    c.pepper = std::string(32, 'p');
    c.kdf = {1, 64, 1};
    return c;
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

std::string raw_bytes(const std::string& db) {
    std::string files;
    for (const auto& f : {db, db + "-wal"})
        if (test::fs::exists(f)) files += test::read_file(f);
    return files;
}

// True if any 32-byte piece of `blob` is in the database file or its WAL.
bool on_disk(const std::string& db, const std::string& blob) {
    std::string files = raw_bytes(db);
    for (size_t at = 0; at + 32 <= blob.size(); at += 32)
        if (files.find(blob.substr(at, 32)) != std::string::npos) return true;
    return false;
}

std::string sealed_of(const std::string& db, const std::string& id) {
    sqlite3* h = nullptr;
    sqlite3_open(db.c_str(), &h);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(h, "SELECT sealed FROM shares WHERE id = ?", -1, &s, nullptr);
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_blob(s, 0))
        out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 0)));
    sqlite3_finalize(s);
    sqlite3_close(h);
    return out;
}

struct Warnings {
    std::mutex m;
    std::vector<std::string> lines;
    StoreOptions options() {
        StoreOptions o;
        o.warn = [this](std::string_view w) {
            std::lock_guard<std::mutex> l(m);
            lines.emplace_back(w);
        };
        return o;
    }
};

}  // namespace

TEST_CASE("the share database, its -wal and its -shm are created 0600, an existing 0644 database is tightened") {
    test::TempDir dir;
    std::string db = (dir / "new.db").string();
    auto store = open_sqlite_store(db).value();
    FakeClock clock;
    Service service(*store, clock, config());
    REQUIRE(service.create(service.local_user(), "x", 1, 60).ok());
    REQUIRE(test::fs::exists(db + "-wal"));
    REQUIRE(test::fs::exists(db + "-shm"));
    CHECK(mode_of(db) == 0600);
    CHECK(mode_of(db + "-wal") == 0600);
    CHECK(mode_of(db + "-shm") == 0600);

    std::string old = (dir / "old.db").string();
    test::write_file(old, "");
    REQUIRE(chmod(old.c_str(), 0644) == 0);
    Warnings w;
    auto reopened = open_sqlite_store(old, w.options());
    REQUIRE(reopened.ok());
    CHECK(mode_of(old) == 0600);
    REQUIRE(w.lines.size() == 1);
    CHECK(w.lines[0] == old + " was readable by other users; its mode is now 0600");
}

TEST_CASE("a share reveal that wipes leaves no ciphertext in the database or its WAL, and the WAL is empty") {
    test::TempDir dir;
    std::string db = (dir / "s.db").string();
    Warnings w;
    auto store = open_sqlite_store(db, w.options()).value();
    FakeClock clock;
    Service service(*store, clock, config());
    std::string content = "JWE-" + std::string(6000, 'q');  // overflow pages
    auto c = service.create(service.local_user(), content, 2, 600).value();
    std::string sealed = sealed_of(db, c.id);
    REQUIRE(sealed.size() == content.size() + 16);
    CHECK(on_disk(db, sealed));
    REQUIRE(service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
    CHECK(on_disk(db, sealed));  // one reveal left: still there
    REQUIRE(service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
    CHECK(test::fs::file_size(db + "-wal") == 0);
    CHECK_FALSE(on_disk(db, sealed));
    CHECK(w.lines.empty());
}

TEST_CASE("a reader elsewhere blocking the share checkpoint: bounded wait, a warning, and the sweeper scrubs later") {
    test::TempDir dir;
    std::string db = (dir / "s.db").string();
    Warnings w;
    auto store = open_sqlite_store(db, w.options()).value();
    FakeClock clock;
    Service service(*store, clock, config());
    auto c = service.create(service.local_user(), "JWE-" + std::string(6000, 'r'), 1, 600).value();
    std::string sealed = sealed_of(db, c.id);

    // Another process's connection in the middle of a read transaction.
    sqlite3* reader = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &reader) == SQLITE_OK);
    REQUIRE(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM shares;", nullptr, nullptr, nullptr) == SQLITE_OK);
    auto start = std::chrono::steady_clock::now();
    REQUIRE(service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(took < 8.0);  // tries for about 2 s, never the 10 s busy timeout per try
    REQUIRE(w.lines.size() == 1);
    CHECK(w.lines[0] == "wiped share content may remain in " + db +
                            "-wal: the checkpoint could not finish (a reader elsewhere); the sweeper retries");
    CHECK(test::fs::file_size(db + "-wal") > 0);

    REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(reader);
    CHECK(service.sweep() == 0);  // nothing expired, but the pending scrub runs
    CHECK(test::fs::file_size(db + "-wal") == 0);
    CHECK_FALSE(on_disk(db, sealed));
    CHECK(w.lines.size() == 1);
}

TEST_CASE("upgrading a version-0 share database: burned attempts are recounted from the audit trail") {
    test::TempDir dir;
    std::string db = (dir / "v0.db").string();
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    // The schema and a share as the previous version left them after a crash: one wrong
    // PIN, and four attempts charged by requests that never finished.
    REQUIRE(sqlite3_exec(h, R"sql(
        PRAGMA journal_mode=WAL;
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash BLOB NOT NULL UNIQUE,
          created_at REAL NOT NULL DEFAULT (unixepoch('now')));
        CREATE TABLE shares (h BLOB PRIMARY KEY, id TEXT NOT NULL UNIQUE, owner INTEGER NOT NULL REFERENCES users(id),
          state TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, max_reveals INTEGER NOT NULL,
          reveals_left INTEGER NOT NULL, fails_left INTEGER NOT NULL, salt BLOB NOT NULL, kdf_params TEXT NOT NULL,
          verifier BLOB NOT NULL, nonce BLOB, sealed BLOB, content_bytes INTEGER NOT NULL);
        CREATE TABLE audit (seq INTEGER PRIMARY KEY, share_id TEXT NOT NULL, at REAL NOT NULL, event TEXT NOT NULL,
          client TEXT NOT NULL);
        CREATE TABLE counters (key TEXT NOT NULL, window INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key, window));
        INSERT INTO users(id, name, token_hash) VALUES (1, '(local)', x'00');
        INSERT INTO shares VALUES (x'01', 'stuck', 1, 'live', 1, 1900000000, 1, 1, 0, x'02', 'argon2id$t=1$m=64$p=1',
          x'03', x'04', x'05', 1);
        INSERT INTO audit(share_id, at, event, client) VALUES ('stuck', 1, 'created', ''), ('stuck', 2, 'wrong_pin', 't');
    )sql",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    auto store = open_sqlite_store(db).value();
    auto r = store->find("stuck", -1).value();
    CHECK(r.fails_allowed == 5);
    CHECK(r.fails_burned == 1);
    CHECK(r.attempts_left() == 4);
    CHECK(store->precharge(std::string(1, '\x01'), 1800000000.0, 1800000030.0).status == Lease::Status::Granted);
    CHECK(store->list_users().empty());
    // Opening again changes nothing.
    auto again = open_sqlite_store(db).value();
    CHECK(again->find("stuck", -1)->fails_burned == 1);
}
