// Share storage behind an interface: SQLite is the embedded default; the same
// conditional-write rules map onto PostgreSQL (UPDATE ... RETURNING, row locks), so a
// PgStore can follow without touching the service. Every method is one atomic step of
// docs/share-protocol.md's reveal rule.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"

namespace shcx::share {

struct ShareRecord {
    std::string h;  // SHA-256(sid), the primary key; the sid itself is never stored
    std::string id;  // public id for owner operations (revoke, status)
    int64_t owner = 0;
    std::string state = "live";  // live, used, expired, revoked, destroyed
    double created_at = 0, expires_at = 0;
    int max_reveals = 1, reveals_left = 1, fails_left = 5;
    std::string salt, kdf_params, verifier, nonce, sealed;
    int64_t content_bytes = 0;
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
    int max_reveals = 1, fails_left = 0;
};

// The sealed content handed out by a winning reveal.
struct Taken {
    std::string id, nonce, sealed;
    double expires_at = 0;
    int max_reveals = 1, reveals_left = 0;
};

class Store {
public:
    virtual ~Store() = default;

    virtual Result<int64_t> add_user(const std::string& name, const std::string& token_hash) = 0;
    virtual std::optional<int64_t> user_by_token_hash(const std::string& token_hash) = 0;
    // The built-in user "(local)" that owns shares created directly on the database.
    virtual int64_t local_user() = 0;
    // Increments and returns the counter for (key, window): rate limits shared by every
    // server process on the same database.
    virtual int64_t bump_counter(const std::string& key, int64_t window) = 0;

    // Inserts the share and its "created" audit event in one transaction.
    virtual std::optional<Error> insert(const ShareRecord& record) = 0;
    virtual bool is_live(const std::string& h, double now) = 0;
    // Step 2: one conditional write charging an attempt; false = unknown/dead share.
    virtual bool precharge(const std::string& h, double now) = 0;
    virtual std::optional<KdfInputs> kdf_inputs(const std::string& h) = 0;
    // Step 4: after a wrong PIN; destroys the share (wipes its content) when no attempt
    // is left. Returns true if it destroyed it.
    virtual bool destroy_if_exhausted(const std::string& h) = 0;
    // Step 5: one transaction: re-check live and unexpired, refund the attempt, take a
    // reveal, read the sealed content and wipe it if that was the last reveal, and record
    // the "revealed" event (one commit, one fsync). nullopt = lost the race (or expired).
    virtual std::optional<Taken> take_reveal(const std::string& h, double now, const std::string& client) = 0;

    // owner < 0 matches any owner (the local operator).
    virtual bool revoke(const std::string& id, int64_t owner) = 0;
    virtual std::optional<ShareRecord> find(const std::string& id, int64_t owner) = 0;
    virtual void audit(const std::string& share_id, const std::string& event, const std::string& client, double at) = 0;
    virtual std::vector<AuditEvent> audit_events(const std::string& share_id) = 0;
    // Marks expired shares, wipes their content, records the events; returns how many.
    virtual int sweep(double now) = 0;
};

// SQLite in WAL mode with secure_delete, a busy timeout and one connection per thread
// in use. Creates the schema on first open.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace shcx::share
