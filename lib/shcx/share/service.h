// The share protocol (docs/share-protocol.md, docs/share-protocol-hardening.md) over a
// Store, independent of HTTP: create, reveal (KDF slot, attempt lease, KDF outside any
// transaction, constant-time check, atomic burn or take), revoke, status, sweep, API
// users and the shared reveal rate limit. The clock is injected so tests can stand
// exactly on an expiry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/share/crypto.h"
#include "shcx/share/emergency.h"
#include "shcx/share/store.h"

namespace shcx::share {

inline constexpr double kMaxTtlSeconds = 6 * 3600;
inline constexpr int kDefaultFails = 5;
inline constexpr int kCreatesPerMinute = 10;
inline constexpr size_t kMaxContentBytes = size_t{1536} * 1024;  // the client-encrypted JWE

struct Clock {
    virtual ~Clock() = default;
    virtual double now() const = 0;
};
struct SystemClock final : Clock {
    double now() const override;
};

struct ServiceConfig {
    std::string pepper;  // 32 secret bytes from the pepper file (pepper.h)
    KdfParams kdf;
    int max_concurrent_kdf = 4;  // bounds memory: each Argon2id evaluation holds m_cost
    int fails_allowed = kDefaultFails;
    int creates_per_minute = kCreatesPerMinute;
    // An attempt lease outlives the KDF, the verdict's transaction and its busy wait
    // (10 s) with room to spare; after a crash the attempts it held come back after it.
    double lease_seconds = 30;
    // How long a reveal waits while every attempt left is held by requests in flight,
    // before it answers Busy (429) instead.
    double lease_wait_seconds = 10;
    EmergencyLimits emergency;
};

struct Created {
    std::string id, sid;
    SecretString pin;
    double expires_at = 0;
    int reveals = 1;
};

enum class RevealOutcome { Revealed, WrongPin, MalformedPin, Gone, Busy };

struct Revealed {
    RevealOutcome outcome = RevealOutcome::Gone;
    std::string content;    // the inner JWE, when revealed
    int attempts_left = 0;  // WrongPin: wrong PINs still allowed (0: the share is destroyed)
    int retry_after = 0;    // Busy: seconds until an attempt is certainly free again
};

struct ShareStatus {
    ShareRecord record;
    std::vector<AuditEvent> events;
};

struct EmergencyStatus {
    ShareStatus share;
    EmergencyInfo emergency;
};

struct Authenticated {
    enum class Status { Ok, Unknown, Expired } status = Status::Unknown;
    int64_t user = 0;
};

class Service {
public:
    Service(Store& store, const Clock& clock, ServiceConfig config);

    std::string user_token_hash(std::string_view token) const;
    // A new user; returns the API token (shown once, stored only as a hash). ttl: the
    // token expires that many seconds from now. USAGE for a bad or taken name.
    Result<SecretString> add_user(const std::string& name, std::optional<double> ttl_seconds = std::nullopt);
    // A new token for an existing user (the old one stops working), with a new expiry.
    Result<SecretString> rotate_user(const std::string& name, std::optional<double> ttl_seconds = std::nullopt);
    // Removes a user and revokes its live shares; returns how many. USAGE if unknown.
    Result<int> remove_user(const std::string& name);
    std::vector<UserInfo> list_users() { return m_store.list_users(); }
    // The owner of shares created locally with --db (no token needed on this machine).
    int64_t local_user() { return m_store.local_user(); }
    Authenticated authenticate(std::string_view bearer_token);

    // SHARE_RATE_LIMITED past creates_per_minute; SHARE_INVALID for bad arguments.
    Result<Created> create(int64_t owner, std::string_view content_jwe, int reveals, double ttl_seconds);
    // A reveal request from `client_address` against the per-address limit, counted in
    // the store so every process on it shares the budget: 0 when allowed, else the
    // seconds until the current minute ends.
    int reveal_rate_wait(std::string_view client_address, int limit_per_minute);
    Revealed reveal(std::string_view sid, std::string_view pin_input, std::string_view client_address);
    // The same reveal for the SMART Health Links manifest protocol (docs/shl.md, "Making
    // links"), where any passcode that is not the PIN is wrong: a missing (nullopt) or
    // malformed passcode burns an attempt like a wrong PIN (without running the KDF)
    // instead of answering MalformedPin.
    Revealed reveal_passcode(std::string_view sid, std::optional<std::string_view> passcode,
                             std::string_view client_address);
    // True when the share exists, is live, and (for GET) may show the PIN page.
    bool is_live(std::string_view sid);
    // owner < 0: the local operator (--db mode), who may act on any share.
    bool revoke(const std::string& id, int64_t owner, std::string_view client_address);
    std::optional<ShareStatus> status(const std::string& id, int64_t owner);
    int sweep();

    // --- Emergency shares (emergency.h, emergency.cpp) -----------------------------------
    // Both tiers are client-encrypted JWEs; ttl up to kMaxEmergencyTtlSeconds. With a
    // notify_url (url.h's policy: URL_INVALID, URL_REFUSED), every break glass alerts the
    // owner there, signed with the returned notify_secret.
    Result<EmergencyCreated> create_emergency(int64_t owner, std::string_view emergency_jwe, std::string_view full_jwe,
                                              double ttl_seconds, const std::string& label,
                                              const std::string& notify_url = {});
    // A new emergency share (new sid, keys, PIN, id) with the old one's owner, label and
    // expiry, and its notify URL unless another is given (with a new secret), then the old
    // one revoked. SHARE_NOT_FOUND unless `id` is a live emergency share of `owner`
    // (< 0: any owner); create_emergency's errors otherwise.
    Result<EmergencyCreated> rotate_emergency(const std::string& id, int64_t owner, std::string_view emergency_jwe,
                                              std::string_view full_jwe, const std::string& notify_url = {});
    // The emergency tier, with the link alone (rate-limited per link and per address).
    // `via` is what the access log records: "link" (POST /e/) or "shl" (POST /m/, the
    // emergency tier as a SMART Health Link; docs/emergency.md).
    TierRevealed read_emergency(std::string_view sid, const Requester& who, std::string_view via = "link");
    // True when sid is an emergency share's, live or not (its manifest is the emergency tier's).
    bool is_emergency(std::string_view sid);
    // The full tier without the PIN, for "NAME; ROLE; REASON" (rate-limited, paused after
    // EmergencyLimits::break_glass_max_uses until the pause ends or the owner resumes it).
    TierRevealed break_glass(std::string_view sid, std::string_view attestation, const Requester& who);
    // The full tier by PIN: reveal() with the access recorded.
    Revealed reveal_full(std::string_view sid, std::string_view pin, const Requester& who);
    std::optional<EmergencyStatus> emergency_status(const std::string& id, int64_t owner);
    bool resume_break_glass(const std::string& id, int64_t owner);
    // One round of the alert outbox (emergency_alerts.cpp): claims the due alerts, POSTs
    // each signed, records delivered / retry later / given up. Returns how many were
    // attempted. Once *cancel is true, a transfer in flight is aborted (and retried later).
    int deliver_alerts(const AlertPolicy& policy, const std::atomic<bool>* cancel = nullptr);

    // Argon2id evaluations so far (tests read it through the metrics endpoint).
    uint64_t kdf_evaluations() const { return m_kdf_count; }
    std::string client_tag(std::string_view address) const;

private:
    friend class KdfSlot;
    // Steps 2 to 5 of a reveal; pin == nullptr is a passcode that cannot be right.
    Revealed check_pin(std::string_view sid, const SecretString* pin, std::string_view client_address);
    SecretString derive_p(std::string_view pin, std::string_view salt, const KdfParams& params);
    // 12 random bytes in base64url, never starting with '-' (an id is a command-line
    // argument: `share status -x...` would read as an option).
    static std::string new_share_id();
    // A share row sealed for `pin` (the KDF runs in a KdfSlot).
    ShareRecord seal_share(int64_t owner, std::string_view sid, const std::string& id, const SecretString& pin,
                           std::string_view content_jwe, int reveals, double now, double expires_at);
    // An emergency tier sealed under the sid-derived key (`which`: "emergency", "full").
    SecretString tier_key(std::string_view sid, std::string_view which) const;
    // The key sealing a share's webhook secret: from the pepper and the share id, because
    // the alert is signed by a server that does not hold the link.
    SecretString notify_key(std::string_view id) const;
    // 0 when the counter for `key` this minute is within `limit`, else seconds to wait.
    int minute_limit(const std::string& key, int limit);
    static std::string aad(std::string_view h, double expires_at, int max_reveals);
    std::optional<double> expiry_after(std::optional<double> ttl_seconds) const;
    void lease_ended();

    Store& m_store;
    const Clock& m_clock;
    ServiceConfig m_config;
    std::atomic<uint64_t> m_kdf_count{0};
    std::mutex m_kdf_mutex;
    std::condition_variable m_kdf_cv;
    int m_kdf_running = 0;
    // Reveals waiting for a leased attempt hear when one ends in this process (leases
    // held by other processes are seen by polling).
    std::mutex m_lease_mutex;
    std::condition_variable m_lease_cv;
};

}  // namespace shcx::share
