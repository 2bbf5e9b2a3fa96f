#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "shcx/share/pg_conn.h"

namespace shcx::share::pg {
namespace {

// Type OIDs of the built-in types read here (pg_type.h, stable across versions).
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat8 = 701;

uint64_t be(const char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

std::string error_text(PGconn* c, PGresult* r) {
    const char* m = r ? pq().resultErrorMessage(r) : nullptr;
    std::string s = (m && *m) ? m : pq().errorMessage(c);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s.empty() ? "unknown error" : s;
}

void ignore_notice(void*, const char*) {}

// A session the server ended while it sat idle in the pool (restart,
// pg_terminate_backend, idle timeout) has left its last message and then EOF on the
// socket. Each PQconsumeInput reads what has arrived without blocking; reading past the
// message finds the EOF and marks the connection bad, so it is replaced before any
// write is sent on it (a write on a dead session could not tell whether it committed).
bool still_open(Conn& c) {
    for (int i = 0; i < 3; ++i)
        if (pq().consumeInput(c.raw()) != 1 || !c.ok()) return false;
    return true;
}

}  // namespace

Params& Params::add(std::string v, int format) {
    m_storage.push_back(std::move(v));
    m_values.push_back(m_storage.back().c_str());
    m_lengths.push_back(static_cast<int>(m_storage.back().size()));
    m_formats.push_back(format);
    return *this;
}
Params& Params::null() {
    m_values.push_back(nullptr);  // SQL NULL, whatever the type
    m_lengths.push_back(0);
    m_formats.push_back(0);
    return *this;
}
Params& Params::real_or_null(std::optional<double> v) { return v ? real(*v) : null(); }
Params& Params::bytes(std::string_view v) { return add(std::string(v), 1); }
Params& Params::text(std::string_view v) { return add(std::string(v), 0); }
Params& Params::integer(int64_t v) { return add(std::to_string(v), 0); }
Params& Params::real(double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return add(std::string(buf, r.ptr), 0);
}

int64_t Rows::affected() const {
    const char* n = pq().cmdTuples(m_r);
    return (n && *n) ? std::stoll(n) : 0;
}

const char* Rows::raw(int row, int col, size_t expected_size) const {
    if (row >= size() || col >= pq().nfields(m_r)) throw std::logic_error("PostgreSQL result read out of range");
    if (expected_size && static_cast<size_t>(pq().getlength(m_r, row, col)) != expected_size)
        throw std::logic_error("PostgreSQL result of an unexpected size");
    return pq().getvalue(m_r, row, col);
}

std::string Rows::bytes(int row, int col) const {
    const char* p = raw(row, col, 0);
    return std::string(p, static_cast<size_t>(pq().getlength(m_r, row, col)));
}

int64_t Rows::integer(int row, int col) const {
    Oid t = pq().ftype(m_r, col);
    size_t n = t == kInt8 ? 8 : t == kInt4 ? 4 : t == kInt2 ? 2 : 0;
    if (!n) throw std::logic_error("PostgreSQL column is not an integer");
    uint64_t v = be(raw(row, col, n), n);
    // Sign-extend the two's complement value of n bytes.
    if (n < 8 && (v >> (n * 8 - 1)) & 1) v |= ~uint64_t(0) << (n * 8);
    return static_cast<int64_t>(v);
}

double Rows::real(int row, int col) const {
    if (pq().ftype(m_r, col) != kFloat8) throw std::logic_error("PostgreSQL column is not double precision");
    uint64_t bits = be(raw(row, col, 8), 8);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

bool Rows::boolean(int row, int col) const {
    if (pq().ftype(m_r, col) != kBool) throw std::logic_error("PostgreSQL column is not boolean");
    return raw(row, col, 1)[0] != 0;
}

void Conn::fail(PGresult* r, const std::string& what) {
    const char* state = r ? pq().resultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = what + ": " + error_text(m_c, r);
    std::string sqlstate = state ? state : "";
    pq().clear(r);
    // Class 08 is "connection exception"; a broken socket shows as CONNECTION_BAD.
    bool lost = !ok() || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01";
    throw PgError("PostgreSQL: " + msg, sqlstate, lost);
}

Rows Conn::exec(const Statement& s, const Params& p) {
    if (!m_prepared.count(s.name)) {
        PGresult* r = pq().prepare(m_c, s.name, s.sql, 0, nullptr);
        if (pq().resultStatus(r) != PGRES_COMMAND_OK) fail(r, std::string("prepare ") + s.name);
        pq().clear(r);
        m_prepared.insert(s.name);
    }
    PGresult* r = pq().execPrepared(m_c, s.name, p.size(), p.values(), p.lengths(), p.formats(), 1);
    auto st = pq().resultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail(r, s.name);
    return Rows(r);
}

void Conn::exec_simple(const char* sql) {
    PGresult* r = pq().exec(m_c, sql);
    auto st = pq().resultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail(r, std::string(sql).substr(0, 40));
    pq().clear(r);
}

std::unique_ptr<Conn> connect(const std::string& uri) {
    // Keywords before dbname are defaults: the expanded URI overrides them.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "shcx", uri.c_str(), nullptr};
    if (auto loaded = detail::pq_api(); !loaded) throw PgError("PostgreSQL: " + loaded.error().message, "", false);
    PGconn* raw = pq().connectdbParams(keys, values, 1);
    if (!raw) throw PgError("PostgreSQL: out of memory", "", true);
    auto conn = std::make_unique<Conn>(raw);
    if (!conn->ok()) throw PgError("PostgreSQL: cannot connect: " + error_text(raw, nullptr), "", true);
    pq().setNoticeProcessor(raw, ignore_notice, nullptr);
    // Bounds on a stuck statement or a client that stops mid-transaction: the server
    // gives up and releases its row locks instead of blocking the other instances.
    conn->exec_simple(
        "SET statement_timeout = '60s'; SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'");
    return conn;
}

std::unique_ptr<Conn> Pool::acquire() {
    std::unique_lock<std::mutex> lock(m_mutex);
    if (!m_cv.wait_for(lock, m_wait, [&] { return !m_idle.empty() || m_open < m_max; }))
        throw PgError("PostgreSQL: no free database connection for " + std::to_string(m_wait.count()) + " s", "",
                      false);
    while (!m_idle.empty()) {
        auto c = std::move(m_idle.back());
        m_idle.pop_back();
        if (still_open(*c)) return c;
        --m_open;
    }
    ++m_open;
    lock.unlock();
    try {
        return connect(m_uri);
    } catch (...) {
        lock.lock();
        --m_open;
        m_cv.notify_one();
        throw;
    }
}

void Pool::release(std::unique_ptr<Conn> c) {
    bool reusable = c && c->ok() && c->idle();
    if (!reusable) c.reset();  // a broken session, or one left inside a transaction
    std::lock_guard<std::mutex> lock(m_mutex);
    if (reusable) m_idle.push_back(std::move(c));
    else --m_open;
    m_cv.notify_one();
}

}  // namespace shcx::share::pg
