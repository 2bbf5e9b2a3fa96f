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
};

// One access to an emergency share. tier: "emergency" or "full"; via: "link" (the
// emergency tier needs only the link), "pin" or "break-glass". Never health data.
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

// The owner's view of the emergency part of a share.
struct EmergencyInfo {
    std::string label;
    int break_glass_max_uses = 0, break_glass_uses = 0;
    double break_glass_pause = 0, break_glass_paused_until = 0;
    std::vector<EmergencyAccess> accesses;
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
    // Records an access (a full tier revealed by PIN) of the emergency share with hash h.
    virtual void record(const std::string& h, const EmergencyAccess& access) = 0;
    // nullopt unless `id` is an emergency share of `owner` (< 0: any owner).
    virtual std::optional<EmergencyInfo> info(const std::string& id, int64_t owner) = 0;
    // Ends a break-glass pause and restarts the count. False unless `id` is a live
    // emergency share of `owner` (< 0: any owner).
    virtual bool resume_break_glass(const std::string& id, int64_t owner, double now) = 0;
};

}  // namespace shcx::share
