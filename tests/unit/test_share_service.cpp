// The share protocol over a real SQLite database with an injected clock: counters,
// expiry at the boundary, concurrency, leases, rate limits, tokens, the pepper and
// wiping. The cases are in share_service_cases.h, which test_pg_store.cpp runs on
// PostgreSQL too; this file supplies the SQLite Fixture.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "shcx/digest.h"
#include "shcx/share/api.h"
#include "shcx/share/service.h"
#include "shcx/timeutil.h"
#include "support.h"
#include "webhook_receiver.h"

using namespace shcx;
using namespace shcx::share;

namespace {

struct FakeClock final : Clock {
    std::atomic<double> t{1800000000.0};
    double now() const override { return t; }
};

struct Fixture {
    explicit Fixture(ServiceConfig c = config()) : cfg(std::move(c)) {}
    test::TempDir dir;
    std::string db = (dir / "shares.db").string();
    std::unique_ptr<Store> store = open_sqlite_store(db).value();
    FakeClock clock;
    ServiceConfig cfg;
    Service service{*store, clock, cfg};
    int64_t owner = service.local_user();

    static ServiceConfig config() {
        ServiceConfig c;
        c.pepper = std::string(32, 'p');
        c.kdf = {1, 64, 1};  // cheap for tests; the server default is t=2, m=19 MiB
        return c;
    }
    Created create(const std::string& content = "{\"jwe\":\"record\"}", int reveals = 1, double ttl = 3600) {
        auto c = service.create(owner, content, reveals, ttl);
        REQUIRE(c.ok());
        return std::move(c.value());
    }
    std::string sealed_of(const std::string& id) {
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
    // The raw bytes of the database file and its WAL.
    std::string files() {
        std::string out;
        for (const auto& f : {db, db + "-wal"})
            if (test::fs::exists(f)) out += test::read_file(f);
        return out;
    }
    // True if no 32-byte piece of `blob` occurs in the database file or its WAL (a blob
    // larger than a page is not stored contiguously, so look for pieces).
    bool wiped(const std::string& blob) {
        std::string raw = files();
        for (size_t at = 0; at + 32 <= blob.size(); at += 32)
            if (raw.find(blob.substr(at, 32)) != std::string::npos) return false;
        return true;
    }
    bool holds(const std::string& text) { return test::contains(files(), text); }
    std::unique_ptr<Store> open_again() { return open_sqlite_store(db).value(); }
};

}  // namespace

#include "share_emergency_cases.h"
#include "share_service_cases.h"

TEST_CASE("share ids and user tokens never start with '-', so a command line cannot read them as options") {
    // 1 in 64 base64url draws starts with '-': 600 of each would show it (p < 1e-4) without the redraw.
    auto c = Fixture::config();
    c.creates_per_minute = 1000;
    Fixture f(c);
    for (int i = 0; i < 600; ++i) {
        auto made = f.create();
        REQUIRE(made.id.size() == 16);
        CHECK(made.id.front() != '-');
    }
    for (int i = 0; i < 600; ++i) {
        auto token = f.service.add_user("user" + std::to_string(i), std::nullopt);
        REQUIRE(token.ok());
        REQUIRE(token.value().str().size() == 43);
        CHECK(token.value().str().front() != '-');
    }
}
