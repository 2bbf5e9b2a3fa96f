// The client side of emergency shares (docs/emergency.md): the link with its two keys,
// and the three ways to read it over HTTP (POST {public}/e/{sid}).
#pragma once

#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"
#include "shcx/share/crypto.h"

namespace shcx::share {

struct EmergencyLink {
    std::string post_url;                  // the link without its fragment
    SecretString emergency_key, full_key;  // 32 bytes each, from the fragment
};

// `url` + "#" + base64url(emergency key) + "." + base64url(full key).
std::string emergency_link(std::string_view url, const SecretString& emergency_key, const SecretString& full_key);
// The emergency tier as a SMART Health Link (docs/emergency.md, "SMART Health Links"):
// manifest URL {public}/m/{sid}, the emergency key, flag L (no P: the tier needs no PIN),
// exp and label. `url` is the emergency share's {public}/e/{sid}. SHARE_INVALID as
// shlink_for (client.h).
Result<SecretString> emergency_shl(std::string_view url, const SecretString& emergency_key, int64_t expires_at,
                                   std::string_view label);
// True when the text is shaped like https://HOST[/PREFIX]/e/SID#... (then parse it with
// parse_emergency_link, whose errors say what is wrong).
bool looks_like_emergency_link(std::string_view text);
// URL_INVALID / URL_REFUSED, SHARE_LINK_INVALID. Messages never show a key.
Result<EmergencyLink> parse_emergency_link(std::string_view text);

// The emergency tier. SHARE_NOT_FOUND, SHARE_RATE_LIMITED, SHARE_REDIRECT_REFUSED,
// SHARE_DECRYPT_FAILED, NETWORK_ERROR, INPUT_TOO_LARGE.
Result<JweContent> read_emergency_tier(const EmergencyLink& link);
// The full tier by PIN: also SHARE_PIN_MALFORMED (nothing sent), SHARE_WRONG_PIN.
Result<JweContent> read_full_tier(const EmergencyLink& link, std::string_view pin);
// The full tier by break glass: also SHARE_ATTESTATION_INVALID (nothing sent),
// SHARE_BREAK_GLASS_PAUSED.
Result<JweContent> break_glass(const EmergencyLink& link, std::string_view attestation);

}  // namespace shcx::share
