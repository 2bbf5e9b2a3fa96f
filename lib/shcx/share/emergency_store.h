// Storage of emergency shares (docs/emergency.md): the second row beside an ordinary
// share that holds the emergency tier, the break-glass copy of the full tier, the
// break-glass limits, and the access log. Each method is one transaction; times are
// Unix seconds from the service's clock. The `shares` row carries the state: once it
// leaves 'live' (revoke, expiry, destroy) a database trigger wipes the tiers in the
// same transaction (migrations/*/0003_emergency.sql).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"

namespace shcx::share {

struct ShareRecord;

// What an emergency share adds to its ShareRecord.
struct EmergencyRecord {
    std::string label;
    std::string nonce_emergency, sealed_emergency;  // sealed under the sid-derived key
    std::string nonce_full, sealed_full;            // the break-glass copy of the full tier
    int break_glass_max_uses = 3;                   // break-glass uses before a pause
    double break_glass_pause = 3600;                // seconds
    // The owner's alert on break glass (migrations/*/0004_emergency_alerts.sql): a webhook
    // URL ("" for none) and its secret sealed under the pepper- and id-derived key.
    std::string notify_url, notify_nonce, notify_sealed_secret;
};

// One access to an emergency share. tier: "emergency" or "full"; via: "link" (the
// emergency tier needs only the link), "shl" (the same tier, read as a SMART Health Link),
// "pin" or "break-glass". Never health data.
struct EmergencyAccess {
    double at = 0;
    std::string tier, via, attestation, address, user_agent;
};

// What a tier read found.
struct TierRead {
    enum class Status { Read, Gone, Paused } status = Status::Gone;
    std::string id, nonce, sealed;
    double expires_at = 0;
    double paused_until = 0;  // Paused: break glass works again then (or when the owner resumes it)
};

// One break-glass alert in the outbox. state: "pending", "delivered", "failed" (given up).
struct AlertState {
    int64_t seq = 0;
    double at = 0;  // the break glass
    std::string state;
    int attempts = 0;
    int last_status = 0;  // HTTP status of the last attempt (0: no answer)
    std::string last_error;
    double done_at = 0;
};

// A due alert claimed by one deliverer for lease seconds (its attempt already counted).
struct AlertClaim {
    int64_t seq = 0;
    std::string share_id, url, nonce, sealed_secret;
    EmergencyAccess access;  // via is "break-glass"
    int attempts = 0;        // including this one
};

// The owner's view of the emergency part of a share.
struct EmergencyInfo {
    std::string label;
    int break_glass_max_uses = 0, break_glass_uses = 0;
    double break_glass_pause = 0, break_glass_paused_until = 0;
    std::vector<EmergencyAccess> accesses;
    std::string notify_url;  // "" when none, or once the share is dead
    std::vector<AlertState> alerts;
};

class EmergencyStore {
public:
    virtual ~EmergencyStore() = default;
    // The share, its emergency row and its "created" audit event in one transaction.
    virtual std::optional<Error> insert(const ShareRecord& share, const EmergencyRecord& emergency) = 0;
    // For the live, unexpired emergency share with hash h: the emergency tier
    // (break_glass false), or the break-glass copy of the full tier (true), which counts
    // a use and, at break_glass_max_uses, pauses break glass for break_glass_pause
    // seconds; while paused it answers Paused and records nothing. A read records
    // `access` (with the share's id) in the same transaction.
    virtual TierRead read(const std::string& h, double now, bool break_glass, const EmergencyAccess& access) = 0;
    // True when the share with hash h is an emergency share, live or not. Records nothing.
    virtual bool is_emergency(const std::string& h) = 0;
    // Records an access (a full tier revealed by PIN) of the emergency share with hash h.
    virtual void record(const std::string& h, const EmergencyAccess& access) = 0;
    // nullopt unless `id` is an emergency share of `owner` (< 0: any owner).
    virtual std::optional<EmergencyInfo> info(const std::string& id, int64_t owner) = 0;
    // Ends a break-glass pause and restarts the count. False unless `id` is a live
    // emergency share of `owner` (< 0: any owner).
    virtual bool resume_break_glass(const std::string& id, int64_t owner, double now) = 0;

    // --- The break-glass alert outbox. A break-glass read() of a share with a notify URL
    // enqueues an alert in its transaction; alerts outlive their share.
    // Up to `max` pending alerts due at `now` and not leased, each leased until now + lease
    // and its attempt counted. Safe with several deliverers on one database.
    virtual std::vector<AlertClaim> claim_alerts(double now, double lease, int max) = 0;
    // The claimed alert was delivered (status: the receiver's 2xx); its secret copy is wiped.
    virtual void alert_delivered(int64_t seq, double now, int status) = 0;
    // The attempt failed (status 0: no HTTP answer): pending again at retry_at, or failed
    // for good (secret copy wiped) when retry_at is nullopt.
    virtual void alert_failed(int64_t seq, double now, int status, const std::string& error,
                              std::optional<double> retry_at) = 0;
};

}  // namespace shcx::share
