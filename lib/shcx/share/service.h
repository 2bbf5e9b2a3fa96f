// The share protocol (docs/share-protocol.md) over a Store, independent of HTTP: create,
// reveal (pre-charge, KDF outside any transaction, constant-time check, atomic take),
// revoke, status, sweep. The clock is injected so tests can stand exactly on an expiry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/share/crypto.h"
#include "shcx/share/store.h"

namespace shcx::share {

inline constexpr double kMaxTtlSeconds = 6 * 3600;
inline constexpr int kDefaultFails = 5;
inline constexpr int kCreatesPerMinute = 10;
inline constexpr size_t kMaxContentBytes = 1536 * 1024;  // the client-encrypted JWE

struct Clock {
    virtual ~Clock() = default;
    virtual double now() const = 0;
};
struct SystemClock final : Clock {
    double now() const override;
};

struct ServiceConfig {
    std::string pepper;  // 32 secret bytes from the pepper file
    KdfParams kdf;
    int max_concurrent_kdf = 4;  // bounds memory: each Argon2id evaluation holds m_cost
    int fails_allowed = kDefaultFails;
    int creates_per_minute = kCreatesPerMinute;
};

struct Created {
    std::string id, sid;
    SecretString pin;
    double expires_at = 0;
    int reveals = 1;
};

enum class RevealOutcome { Revealed, WrongPin, MalformedPin, Gone };

struct Revealed {
    RevealOutcome outcome = RevealOutcome::Gone;
    std::string content;  // the inner JWE, when revealed
};

struct ShareStatus {
    ShareRecord record;
    std::vector<AuditEvent> events;
};

class Service {
public:
    Service(Store& store, const Clock& clock, ServiceConfig config);

    std::string user_token_hash(std::string_view token) const;
    // A new user; returns the API token (shown once, stored only as a hash).
    Result<SecretString> add_user(const std::string& name);
    // The owner of shares created locally with --db (no token needed on this machine).
    int64_t local_user() { return m_store.local_user(); }
    std::optional<int64_t> authenticate(std::string_view bearer_token);

    // SHARE_RATE_LIMITED past creates_per_minute; SHARE_INVALID for bad arguments.
    Result<Created> create(int64_t owner, std::string_view content_jwe, int reveals, double ttl_seconds);
    Revealed reveal(std::string_view sid, std::string_view pin_input, std::string_view client_address);
    // True when the share exists, is live, and (for GET) may show the PIN page.
    bool is_live(std::string_view sid);
    // owner < 0: the local operator (--db mode), who may act on any share.
    bool revoke(const std::string& id, int64_t owner, std::string_view client_address);
    std::optional<ShareStatus> status(const std::string& id, int64_t owner);
    int sweep();

    // Argon2id evaluations so far (tests read it through the metrics endpoint).
    uint64_t kdf_evaluations() const { return m_kdf_count; }
    std::string client_tag(std::string_view address) const;

private:
    SecretString derive_p(std::string_view pin, std::string_view salt, const KdfParams& params);
    static std::string aad(std::string_view h, double expires_at, int max_reveals);

    Store& m_store;
    const Clock& m_clock;
    ServiceConfig m_config;
    std::atomic<uint64_t> m_kdf_count{0};
    std::mutex m_kdf_mutex;
    std::condition_variable m_kdf_cv;
    int m_kdf_running = 0;
};

}  // namespace shcx::share
