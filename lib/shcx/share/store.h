// Share storage behind an interface: SQLite is the embedded default; a PostgreSQL store
// can follow without touching the service. Every method is one atomic step (one
// transaction, or one conditional write) and its contract is written next to it; times
// are Unix seconds from the service's clock. The attempt lease, the pepper check and the
// scrub of wiped content are described in docs/share-protocol-hardening.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::share {

class EmergencyStore;  // emergency_store.h

struct ShareRecord {
    std::string h;   // SHA-256(sid), the primary key; the sid itself is never stored
    std::string id;  // public id for owner operations (revoke, status)
    int64_t owner = 0;
    std::string state = "live";  // live, used, expired, revoked, destroyed
    double created_at = 0, expires_at = 0;
    int max_reveals = 1, reveals_left = 1;
    int fails_allowed = 5;  // wrong PINs that destroy the share
    int fails_burned = 0;   // wrong PINs so far (attempts in flight are not counted)
    std::string salt, kdf_params, verifier, nonce, sealed;
    int64_t content_bytes = 0;

    int attempts_left() const { return fails_allowed - fails_burned; }
};

struct AuditEvent {
    double at = 0;
    std::string event;   // created, revealed, wrong_pin, destroyed, expired, revoked
    std::string client;  // HMAC of the client address, never the address itself
};

// What a reveal needs before the KDF: everything but the sealed content.
struct KdfInputs {
    std::string id, salt, kdf_params, verifier;
    double expires_at = 0;
    int max_reveals = 1;
};

// The outcome of precharge().
struct Lease {
    enum class Status { Granted, Busy, Gone } status = Status::Gone;
    int64_t id = 0;         // Granted: the lease to hand back to burn_attempt / take_reveal / release_lease
    KdfInputs inputs;       // Granted
    double busy_until = 0;  // Busy: when the first lease in flight lapses at the latest
};

// The outcome of burn_attempt().
struct Burned {
    int attempts_left = 0;   // fails_allowed - fails_burned after this wrong PIN
    bool destroyed = false;  // this wrong PIN was the last one allowed
};

// The sealed content handed out by a winning reveal.
struct Taken {
    std::string id, nonce, sealed;
    double expires_at = 0;
    int max_reveals = 1, reveals_left = 0;
};

struct TokenOwner {
    int64_t id = 0;
    bool expired = false;
};

struct UserInfo {
    std::string name;
    double created_at = 0;
    std::optional<double> last_used_at, expires_at;  // nullopt: never used / never expires
};

class Store {
public:
    virtual ~Store() = default;

    // --- API users -------------------------------------------------------------------
    // Inserts a user. USAGE if the name is taken.
    virtual Result<int64_t> add_user(const std::string& name, const std::string& token_hash, double now,
                                     std::optional<double> expires_at) = 0;
    // The user holding this token hash. An unexpired token records `now` as its last use
    // (at most one write a minute per user); an expired one is returned with expired set.
    virtual std::optional<TokenOwner> user_by_token_hash(const std::string& token_hash, double now) = 0;
    // Every user but the built-in "(local)", by name. Never the token hashes.
    virtual std::vector<UserInfo> list_users() = 0;
    // Replaces the user's token hash (the old token stops working at once) and expiry,
    // and forgets its last use. False if there is no such user.
    virtual bool rotate_user(const std::string& name, const std::string& token_hash,
                             std::optional<double> expires_at) = 0;
    // One transaction: revokes (wipes) the user's live shares with a "revoked" event,
    // hands its share tombstones to "(local)" and deletes the user. nullopt if there is
    // no such user, else the number of shares revoked.
    virtual std::optional<int> remove_user(const std::string& name, double now) = 0;
    // The built-in user "(local)" that owns shares created directly on the database.
    virtual int64_t local_user() = 0;

    // Increments and returns the counter for (key, window), window being a minute number
    // (floor(unix time / 60)): rate limits shared by every process on the database.
    virtual int64_t bump_counter(const std::string& key, int64_t window) = 0;

    // --- The pepper check --------------------------------------------------------------
    // The stored fingerprint of the pepper, nullopt before one is stored.
    virtual std::optional<std::string> pepper_check() = 0;
    // How many users (besides "(local)") and shares depend on the pepper.
    virtual int64_t pepper_dependents() = 0;
    // Stores `check` unless a fingerprint is stored already; returns the stored one.
    virtual std::string adopt_pepper_check(const std::string& check) = 0;
    // A new pepper replaces a lost one, in one transaction: live shares are revoked and
    // wiped (their "revoked" event says client "pepper-reset"), every token hash is
    // replaced by random bytes (`share user rotate` issues new tokens), leases are
    // dropped and `check` is stored. Returns the number of shares revoked.
    virtual int reset_pepper(const std::string& check, double now) = 0;

    // --- Shares ------------------------------------------------------------------------
    // Inserts the share and its "created" audit event in one transaction.
    virtual std::optional<Error> insert(const ShareRecord& record) = 0;
    // Live: state live, unexpired, reveals left.
    virtual bool is_live(const std::string& h, double now) = 0;
    // Step 2 of a reveal, one transaction: for a live share with an attempt free (not
    // burned, not held by an unexpired lease) inserts a lease valid until `lease_until`
    // and returns it with the KDF inputs. Busy: every remaining attempt is leased by a
    // request in flight. Gone: unknown or not live. Drops the share's expired leases.
    virtual Lease precharge(const std::string& h, double now, double lease_until) = 0;
    // Step 4, one transaction, after a wrong PIN: ends the lease and burns an attempt of
    // a live share (whether or not the lease had lapsed) with a "wrong_pin" event; when
    // the burned attempts reach fails_allowed the share is destroyed (content wiped,
    // "destroyed" event) and the wipe is scrubbed from disk. nullopt if not live.
    virtual std::optional<Burned> burn_attempt(const std::string& h, int64_t lease, double now,
                                               const std::string& client) = 0;
    // Step 5, one transaction: ends the lease (the attempt is refunded); if the share is
    // still live and unexpired takes a reveal, reads the sealed content, wipes it if that
    // was the last reveal, and records "revealed". nullopt = lost the race (or expired).
    // A wipe is scrubbed from disk before returning.
    virtual std::optional<Taken> take_reveal(const std::string& h, int64_t lease, double now,
                                             const std::string& client) = 0;
    // Ends a lease without burning anything (a request that stopped before its verdict).
    virtual void release_lease(int64_t lease) = 0;

    // owner < 0 matches any owner (the local operator). Revokes a live share, wipes it,
    // records "revoked" in the same transaction, scrubs. False if none matched.
    virtual bool revoke(const std::string& id, int64_t owner, double now, const std::string& client) = 0;
    virtual std::optional<ShareRecord> find(const std::string& id, int64_t owner) = 0;
    virtual std::vector<AuditEvent> audit_events(const std::string& share_id) = 0;
    // Expires live shares past their time (wipe + "expired" event), drops lapsed leases
    // and old counters, and retries a scrub that could not finish earlier. Returns the
    // number of shares expired.
    virtual int sweep(double now) = 0;

    // --- Emergency shares (emergency_store.h) -------------------------------------------
    virtual EmergencyStore& emergency() = 0;
};

struct StoreOptions {
    // Problems the store works around but an operator should hear of (a WAL checkpoint
    // that could not finish). Never called with secrets or health data.
    std::function<void(std::string_view)> warn;
};

// SQLite in WAL mode with secure_delete, a busy timeout and one connection per thread in
// use. Creates the database (mode 0600, and so its -wal and -shm) and the schema on first
// open, tightens an existing file to 0600, upgrades an older schema, drops lapsed leases.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, StoreOptions options = {});

}  // namespace shcx::share
