// Emergency shares (docs/emergency.md): one link, two tiers. The emergency tier (the
// essentials a paramedic needs) is read with the link alone; the full record needs the
// PIN, or "break glass" with a signed-off attestation. Both tiers are JWEs encrypted by
// the client under their own keys from the link's fragment; the server seals each again
// under a key derived from the sid (which it never stores), so the database alone opens
// nothing. The types of the Service's emergency members (service.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shcx/secure.h"
#include "shcx/share/emergency_store.h"

namespace shcx::share {

// Up to 5 years (a wristband, a wallet card).
inline constexpr double kMaxEmergencyTtlSeconds = 5 * 365 * 86400.0 + 86400.0;
inline constexpr size_t kMaxLabelBytes = 80;
inline constexpr size_t kMaxAttestationBytes = 300;
// An emergency share's full tier may be revealed by PIN this many times.
inline constexpr int kEmergencyFullReveals = 1000000;

struct EmergencyLimits {
    int reads_per_minute_per_link = 30;  // emergency-tier reads
    int reads_per_minute_per_address = 10;
    int break_glass_per_minute_per_link = 3;
    int break_glass_per_minute_per_address = 2;
    int break_glass_max_uses = 3;     // then paused ...
    double break_glass_pause = 3600;  // ... this many seconds, unless the owner resumes it
};

// Who asks: recorded with every access (emergency_store.h).
struct Requester {
    std::string address, user_agent;
};

struct EmergencyCreated {
    std::string id, sid, label;
    SecretString pin;
    double expires_at = 0;
    std::string notify_url;      // where break-glass alerts go (empty: none)
    SecretString notify_secret;  // with a notify URL: the webhook secret, shown once
};

// --- The owner's alert on break glass (docs/emergency.md, "The owner's alert") -----------
inline constexpr size_t kMaxNotifyUrlBytes = 2048;
inline constexpr size_t kNotifySecretBytes = 32;  // printed as 43 base64url characters
inline constexpr const char* kSignatureHeader = "Shcx-Signature";

// How the server delivers alerts: each attempt times out after timeout_s; a failed one is
// retried after first_retry_s, doubling up to max_retry_s; after max_attempts it is given up.
struct AlertPolicy {
    int max_attempts = 12;
    double first_retry_s = 1;
    double max_retry_s = 600;
    long timeout_s = 10;
    double lease_s = 60;  // > timeout_s: another server takes a claimed alert only after this
    int batch = 16;       // alerts claimed at once
};

// The seconds to wait after failed attempt number `attempt` (1, 2, ...).
double alert_backoff(const AlertPolicy& policy, int attempt);
// The JSON body of an alert: no health data, only who broke the glass, when and where.
std::string alert_body(int64_t alert_seq, const std::string& share_id, const EmergencyAccess& access);
// The Shcx-Signature value: "t=UNIX,v1=" + hex(HMAC-SHA256(secret, UNIX + "." + body)).
std::string alert_signature(std::string_view secret, int64_t unix_time, std::string_view body);

enum class TierOutcome { Read, Gone, RateLimited, Paused, BadAttestation };

struct TierRevealed {
    TierOutcome outcome = TierOutcome::Gone;
    std::string content;  // Read: the client-encrypted JWE of the tier
    int retry_after = 0;  // RateLimited, Paused: seconds
};

// "NAME; ROLE; REASON": three non-empty parts, printable, at most kMaxAttestationBytes.
// Returns the parts joined by "; " with surrounding spaces trimmed, or nullopt.
std::optional<std::string> normalise_attestation(std::string_view text);

}  // namespace shcx::share
