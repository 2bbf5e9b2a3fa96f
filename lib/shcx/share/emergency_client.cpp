// The client side of emergency shares (emergency_client.h).
#include "shcx/share/emergency_client.h"

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/http_client.h"
#include "shcx/share/api.h"
#include "shcx/share/client.h"
#include "shcx/share/emergency.h"
#include "shcx/url.h"

namespace shcx::share {
namespace {

using detail::Json;

constexpr size_t kMaxTierAnswer = 4u << 20;
const char* const kShape = "not an emergency link (https://HOST/e/ID#KEY.KEY)";

std::string error_of(const std::string& body) {
    auto j = detail::parse_json(body, 4);
    if (!j || !j->is_object()) return "";
    return detail::string_member(*j, "error").value_or("");
}

// POSTs `body` once to the link's own address (never following a redirect) and opens
// the answer with `key`.
Result<JweContent> post(const EmergencyLink& link, std::string body, const SecretString& key) {
    http::Request req;
    req.url = link.post_url;
    req.method = "POST";
    req.body = std::move(body);
    req.headers.push_back({"Content-Type", "application/json"});
    req.max_bytes = kMaxTierAnswer;
    req.total_timeout_s = 60;
    req.follow_redirects = false;
    auto r = http::send(req);
    secure_wipe(req.body);
    if (!r) return r.error();
    const http::Response& res = r.value();
    const std::string& wait = res.retry_after;
    std::string later = wait.empty() ? "retry later" : "retry in " + wait + " s";
    switch (res.status) {
        case 200: return jwe_decrypt(key.str(), res.body);
        case 400:
            if (error_of(res.body) == "bad_attestation")
                return make_error(ErrorCode::SHARE_ATTESTATION_INVALID, "the server refused the attestation");
            return make_error(ErrorCode::NETWORK_ERROR, "the server refused the request (HTTP 400)");
        case 403: {
            auto j = detail::parse_json(res.body, 4);
            int left = j && j->is_object() && j->contains("remaining_attempts") &&
                               (*j)["remaining_attempts"].is_number_integer()
                           ? (*j)["remaining_attempts"].get<int>()
                           : 0;
            if (error_of(res.body) == "malformed_pin")
                return make_error(ErrorCode::SHARE_PIN_MALFORMED, "the server refused the PIN's shape");
            return make_error(ErrorCode::SHARE_WRONG_PIN,
                              left == 0
                                  ? "wrong PIN: that was the last try, the link is destroyed"
                                  : "wrong PIN: " + std::to_string(left) + " tr" + (left == 1 ? "y" : "ies") + " left");
        }
        case 404:
            return make_error(ErrorCode::SHARE_NOT_FOUND,
                              "the link is not valid (unknown, expired, revoked or destroyed)");
        case 429:
            if (error_of(res.body) == "break_glass_paused")
                return make_error(ErrorCode::SHARE_BREAK_GLASS_PAUSED,
                                  "break glass is paused on this link (the owner can resume it); " + later);
            return make_error(ErrorCode::SHARE_RATE_LIMITED, "too many requests; " + later);
        default:
            if (res.status >= 300 && res.status < 400)
                return make_error(ErrorCode::SHARE_REDIRECT_REFUSED,
                                  "the server answered with HTTP " + std::to_string(res.status) + ": not followed");
            return make_error(ErrorCode::NETWORK_ERROR, "the server answered HTTP " + std::to_string(res.status));
    }
}

}  // namespace

std::string emergency_link(std::string_view url, const SecretString& emergency_key, const SecretString& full_key) {
    return std::string(url) + "#" + base64url::encode(emergency_key.str()) + "." + base64url::encode(full_key.str());
}

Result<SecretString> emergency_shl(std::string_view url, const SecretString& emergency_key, int64_t expires_at,
                                   std::string_view label) {
    auto at = url.rfind(kEmergencyPath);
    if (at == std::string_view::npos)
        return make_error(ErrorCode::SHARE_INVALID, "not an emergency share URL ({public}/e/ID)");
    return shlink_for(url.substr(0, at), url.substr(at + kEmergencyPath.size()), emergency_key, expires_at, "L", label);
}

bool looks_like_emergency_link(std::string_view text) {
    auto hash = text.find('#');
    auto path = text.substr(0, hash);
    return path.find("://") != std::string_view::npos && path.find("/e/") != std::string_view::npos;
}

Result<EmergencyLink> parse_emergency_link(std::string_view text) {
    auto u = url::parse_allowed(text);
    if (!u) return u.error();
    const std::string& path = u.value().path;
    auto at = path.rfind("/e/");
    std::string sid = at == std::string::npos ? "" : path.substr(at + 3);
    if (sid.size() != 22 || !base64url::is_alphabet(sid) || !u.value().query.empty())
        return make_error(ErrorCode::SHARE_LINK_INVALID, std::string(kShape) + ": " + u.value().origin() + " ...");
    SecretString fragment(std::move(u.value().fragment));
    auto dot = fragment.str().find('.');
    std::optional<std::string> ke, kf;
    if (dot != std::string::npos) {
        ke = base64url::decode(std::string_view(fragment.str()).substr(0, dot));
        kf = base64url::decode(std::string_view(fragment.str()).substr(dot + 1));
    }
    EmergencyLink link;
    if (ke) link.emergency_key = SecretString(std::move(*ke));
    if (kf) link.full_key = SecretString(std::move(*kf));
    if (link.emergency_key.str().size() != 32 || link.full_key.str().size() != 32)
        return make_error(ErrorCode::SHARE_LINK_INVALID, "the link's keys (after #) are missing or damaged");
    link.post_url = u.value().without_fragment();
    return link;
}

Result<JweContent> read_emergency_tier(const EmergencyLink& link) {
    return post(link, Json{{"tier", "emergency"}}.dump(), link.emergency_key);
}

Result<JweContent> read_full_tier(const EmergencyLink& link, std::string_view pin) {
    auto normal = normalise_pin(pin);
    if (!normal)
        return make_error(ErrorCode::SHARE_PIN_MALFORMED,
                          "a PIN is 8 characters: digits and letters except U (O reads as 0, I and L as 1)");
    return post(link, Json{{"tier", "full"}, {"challenge", normal->str()}}.dump(), link.full_key);
}

Result<JweContent> break_glass(const EmergencyLink& link, std::string_view attestation) {
    auto attest = normalise_attestation(attestation);
    if (!attest)
        return make_error(ErrorCode::SHARE_ATTESTATION_INVALID,
                          "an attestation is \"NAME; ROLE; REASON\": three non-empty parts, at most 300 bytes");
    return post(link, Json{{"tier", "full"}, {"attestation", *attest}}.dump(), link.full_key);
}

}  // namespace shcx::share
