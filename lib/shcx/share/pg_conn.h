// libpq underneath the PostgreSQL share store: a pool of connections, each with its own
// lazily prepared statements, typed parameters and results (binary results, so bytea
// comes back as raw bytes), and transactions that retry when PostgreSQL asks for it.
// Internal to pg_*.cpp and the migration code: include only from .cpp files.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "shcx/detail/pq_api.h"

namespace shcx::share::pg {

// libpq's functions (detail/pq_api.h). Loaded by connect(), so valid wherever a Conn or
// its Rows exist.
inline const detail::PqApi& pq() { return *detail::pq_api().value(); }

// A failed command. connection_lost: the session is gone, so whether a write committed
// is unknown; sqlstate: PostgreSQL's five-character error code, when it sent one.
class PgError : public std::runtime_error {
public:
    PgError(const std::string& what, std::string sqlstate, bool connection_lost)
        : std::runtime_error(what), sqlstate(std::move(sqlstate)), connection_lost(connection_lost) {}
    std::string sqlstate;
    bool connection_lost;
    // 40001 serialization_failure, 40P01 deadlock_detected: the transaction was rolled
    // back whole and may simply run again.
    bool retryable() const { return sqlstate == "40001" || sqlstate == "40P01"; }
};

// A named statement: prepared once per connection on first use.
struct Statement {
    const char* name;
    const char* sql;
};

class Params {
public:
    Params& bytes(std::string_view v);  // bytea, sent in binary
    Params& text(std::string_view v);   // text without NUL bytes
    Params& integer(int64_t v);
    Params& real(double v);  // shortest text that reads back as the same double
    Params& real_or_null(std::optional<double> v);
    Params& null();

    int size() const { return static_cast<int>(m_values.size()); }
    const char* const* values() const { return m_values.data(); }
    const int* lengths() const { return m_lengths.data(); }
    const int* formats() const { return m_formats.data(); }

private:
    Params& add(std::string v, int format);
    std::deque<std::string> m_storage;  // stable addresses for m_values
    std::vector<const char*> m_values;
    std::vector<int> m_lengths, m_formats;
};

class Rows {
public:
    explicit Rows(PGresult* r) : m_r(r) {}
    Rows(Rows&& o) noexcept : m_r(o.m_r) { o.m_r = nullptr; }
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;
    ~Rows() { pq().clear(m_r); }

    int size() const { return pq().ntuples(m_r); }
    bool empty() const { return size() == 0; }
    // Rows changed by INSERT/UPDATE/DELETE.
    int64_t affected() const;
    bool is_null(int row, int col) const { return pq().getisnull(m_r, row, col) == 1; }
    std::string bytes(int row, int col) const;  // text and bytea columns; NULL is ""
    int64_t integer(int row, int col) const;    // smallint, integer, bigint
    double real(int row, int col) const;        // double precision
    bool boolean(int row, int col) const;

private:
    const char* raw(int row, int col, size_t expected_size) const;
    PGresult* m_r;
};

class Conn {
public:
    explicit Conn(PGconn* c) : m_c(c) {}
    ~Conn() { pq().finish(m_c); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    Rows exec(const Statement& s, const Params& p = {});
    void exec_simple(const char* sql);  // no parameters; several statements allowed
    bool ok() const { return pq().status(m_c) == CONNECTION_OK; }
    bool idle() const { return pq().transactionStatus(m_c) == PQTRANS_IDLE; }
    PGconn* raw() { return m_c; }

private:
    [[noreturn]] void fail(PGresult* r, const std::string& what);
    PGconn* m_c;
    std::unordered_set<std::string> m_prepared;
};

// Opens one connection: any libpq connection URI or key=value string, with a connect
// timeout and session limits applied unless the URI sets them; notices are dropped
// (the library prints nothing). Throws PgError (also when libpq cannot be loaded).
std::unique_ptr<Conn> connect(const std::string& uri);

class Pool {
public:
    Pool(std::string uri, int max_connections, std::chrono::seconds wait_limit)
        : m_uri(std::move(uri)), m_max(max_connections), m_wait(wait_limit) {}

    // A connection for one operation; back to the pool when done, unless it broke or is
    // still inside a transaction (then it is closed and a fresh one replaces it).
    class Lease {
    public:
        explicit Lease(Pool& p) : m_pool(p), m_conn(p.acquire()) {}
        ~Lease() { m_pool.release(std::move(m_conn)); }
        Conn& operator*() { return *m_conn; }
        Conn* operator->() { return m_conn.get(); }

    private:
        Pool& m_pool;
        std::unique_ptr<Conn> m_conn;
    };

    // Runs fn(conn). With retry_if_lost, a lost connection is replaced and fn runs once
    // more: only for operations that may safely run twice (reads, idempotent writes).
    template <class F>
    auto run(bool retry_if_lost, F&& fn) -> decltype(fn(std::declval<Conn&>())) {
        for (int attempt = 0;; ++attempt) {
            try {
                Lease c(*this);
                return fn(*c);
            } catch (const PgError& e) {
                if (!(retry_if_lost && e.connection_lost && attempt == 0)) throw;
            }
        }
    }

    // Runs fn(conn) between BEGIN and COMMIT (READ COMMITTED); a serialization failure or
    // deadlock rolls back and runs it again (a few times). Any other error rolls back and
    // propagates. fn must be safe to run again: it sees no partial effects of a failed try.
    template <class F>
    auto transaction(F&& fn) -> decltype(fn(std::declval<Conn&>())) {
        for (int attempt = 0;; ++attempt) {
            try {
                Lease c(*this);
                c->exec_simple("BEGIN");
                RollbackGuard guard{*c};
                if constexpr (std::is_void_v<decltype(fn(*c))>) {
                    fn(*c);
                    c->exec_simple("COMMIT");
                    guard.done = true;
                    return;
                } else {
                    auto out = fn(*c);
                    c->exec_simple("COMMIT");
                    guard.done = true;
                    return out;
                }
            } catch (const PgError& e) {
                if (!e.retryable() || attempt >= 4) throw;
            }
        }
    }

private:
    struct RollbackGuard {
        Conn& c;
        bool done = false;
        ~RollbackGuard() {
            if (!done && c.ok() && !c.idle()) {
                try {
                    c.exec_simple("ROLLBACK");
                } catch (...) {  // the pool closes a connection left in a transaction
                }
            }
        }
    };

    std::unique_ptr<Conn> acquire();
    void release(std::unique_ptr<Conn> c);

    std::string m_uri;
    int m_max;
    std::chrono::seconds m_wait;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::unique_ptr<Conn>> m_idle;
    int m_open = 0;  // connections in the pool or lent out
};

}  // namespace shcx::share::pg
