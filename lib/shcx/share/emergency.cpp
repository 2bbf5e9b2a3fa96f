// The Service's emergency members (emergency.h; docs/emergency.md).
#include <cmath>

#include "shcx/base64url.h"
#include "shcx/digest.h"
#include "shcx/share/service.h"
#include "shcx/url.h"

namespace shcx::share {
namespace {

bool valid_sid(std::string_view sid) { return sid.size() == 22 && base64url::is_alphabet(sid); }

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// Binds a sealed tier to its share, its place and its expiry.
std::string tier_aad(std::string_view h, std::string_view which, double expires_at) {
    return "shcx1|tier|" + std::string(which) + "|" + std::string(h) + "|" +
           std::to_string(static_cast<int64_t>(expires_at));
}

}  // namespace

std::optional<std::string> normalise_attestation(std::string_view text) {
    if (text.size() > kMaxAttestationBytes) return std::nullopt;
    for (unsigned char ch : text)
        if (ch < 0x20 || ch == 0x7f) return std::nullopt;
    std::string out;
    size_t start = 0;
    for (int part = 0; part < 3; ++part) {
        size_t end = part < 2 ? text.find(';', start) : text.size();
        if (end == std::string_view::npos) return std::nullopt;
        std::string piece = trim(text.substr(start, end - start));
        if (piece.empty() || piece.find(';') != std::string::npos) return std::nullopt;
        out += (part ? "; " : "") + piece;
        start = end + 1;
    }
    return out;
}

SecretString Service::tier_key(std::string_view sid, std::string_view which) const {
    SecretString ikm(hmac_sha256(m_config.pepper, "shcx1|emergency|" + std::string(sid)));
    return SecretString(*hkdf_sha256(ikm.str(), digest::sha256(sid), "shcx1|tier|" + std::string(which), 32));
}

SecretString Service::notify_key(std::string_view id) const {
    SecretString ikm(hmac_sha256(m_config.pepper, "shcx1|notify|" + std::string(id)));
    return SecretString(*hkdf_sha256(ikm.str(), "", "shcx1|notify-key", 32));
}

int Service::minute_limit(const std::string& key, int limit) {
    double now = m_clock.now();
    auto window = static_cast<int64_t>(std::floor(now / 60));
    if (m_store.bump_counter(key, window) <= limit) return 0;
    return std::max(1, static_cast<int>(std::ceil(static_cast<double>(window + 1) * 60 - now)));
}

Result<EmergencyCreated> Service::create_emergency(int64_t owner, std::string_view emergency_jwe,
                                                   std::string_view full_jwe, double ttl, const std::string& label,
                                                   const std::string& notify_url) {
    if (!(ttl > 0) || ttl > kMaxEmergencyTtlSeconds)
        return make_error(ErrorCode::SHARE_INVALID, "an emergency share lives more than 0 seconds and at most 5 years");
    for (auto jwe : {emergency_jwe, full_jwe})
        if (jwe.empty() || jwe.size() > kMaxContentBytes)
            return make_error(ErrorCode::SHARE_INVALID, "each tier must be 1 byte to 1.5 MiB of client-encrypted JWE");
    if (label.size() > kMaxLabelBytes) return make_error(ErrorCode::SHARE_INVALID, "a label is at most 80 bytes");
    for (unsigned char ch : label)
        if (ch < 0x20 || ch == 0x7f) return make_error(ErrorCode::SHARE_INVALID, "a label is one line of text");
    if (!notify_url.empty()) {
        if (notify_url.size() > kMaxNotifyUrlBytes)
            return make_error(ErrorCode::URL_INVALID, "a notify URL is at most 2048 bytes");
        if (auto e = url::check_allowed(notify_url)) return make_error(e->code, "notify URL: " + e->message);
    }
    double now = m_clock.now();
    if (minute_limit("create:" + std::to_string(owner), m_config.creates_per_minute) > 0)
        return make_error(ErrorCode::SHARE_RATE_LIMITED,
                          "at most " + std::to_string(m_config.creates_per_minute) + " shares per minute");
    EmergencyCreated c;
    c.sid = base64url::encode(random_bytes(16));
    c.id = new_share_id();
    c.label = label;
    c.pin = generate_pin();
    c.expires_at = std::floor(now + ttl);
    ShareRecord r = seal_share(owner, c.sid, c.id, c.pin, full_jwe, kEmergencyFullReveals, now, c.expires_at);
    r.content_bytes = static_cast<int64_t>(emergency_jwe.size() + full_jwe.size());
    EmergencyRecord e;
    e.label = label;
    e.break_glass_max_uses = m_config.emergency.break_glass_max_uses;
    e.break_glass_pause = m_config.emergency.break_glass_pause;
    e.nonce_emergency = random_bytes(12);
    e.sealed_emergency = aes_gcm_seal(tier_key(c.sid, "emergency").str(), e.nonce_emergency,
                                      tier_aad(r.h, "emergency", c.expires_at), emergency_jwe);
    e.nonce_full = random_bytes(12);
    e.sealed_full =
        aes_gcm_seal(tier_key(c.sid, "full").str(), e.nonce_full, tier_aad(r.h, "full", c.expires_at), full_jwe);
    if (!notify_url.empty()) {
        c.notify_url = notify_url;
        c.notify_secret = SecretString(base64url::encode(random_bytes(kNotifySecretBytes)));
        e.notify_url = notify_url;
        e.notify_nonce = random_bytes(12);
        e.notify_sealed_secret =
            aes_gcm_seal(notify_key(c.id).str(), e.notify_nonce, "shcx1|notify|" + c.id, c.notify_secret.str());
    }
    if (auto err = m_store.emergency().insert(r, e)) return *err;
    return c;
}

Result<EmergencyCreated> Service::rotate_emergency(const std::string& id, int64_t owner, std::string_view emergency_jwe,
                                                   std::string_view full_jwe, const std::string& notify_url) {
    auto old = emergency_status(id, owner);
    // The old whole-second expiry again: create_emergency floors now + ttl, which the half
    // second keeps from landing a rounding error below it.
    double ttl = old ? old->share.record.expires_at - m_clock.now() + 0.5 : 0;
    if (!old || old->share.record.state != "live" || ttl <= 0.5)
        return make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id);
    auto made = create_emergency(old->share.record.owner, emergency_jwe, full_jwe, ttl, old->emergency.label,
                                 notify_url.empty() ? old->emergency.notify_url : notify_url);
    if (!made) return made;
    // The old link dies now; should it have died meanwhile, so does the new one, so that a
    // rotation never leaves two links or a link its owner did not see.
    if (!revoke(id, owner, "rotate")) {
        revoke(made.value().id, -1, "rotate");
        return make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id);
    }
    return made;
}

TierRevealed Service::read_emergency(std::string_view sid, const Requester& who, std::string_view via) {
    TierRevealed out;
    if (!valid_sid(sid)) return out;
    std::string h = digest::sha256(sid);
    const auto& limits = m_config.emergency;
    // Per address first: one flooding address must not use up the link's budget.
    int wait = minute_limit("em-addr:" + client_tag(who.address), limits.reads_per_minute_per_address);
    if (wait == 0)
        wait = minute_limit("em-link:" + base64url::encode(h.substr(0, 12)), limits.reads_per_minute_per_link);
    if (wait > 0) {
        out.outcome = TierOutcome::RateLimited;
        out.retry_after = wait;
        return out;
    }
    double now = m_clock.now();
    auto read =
        m_store.emergency().read(h, now, false, {now, "emergency", std::string(via), "", who.address, who.user_agent});
    if (read.status != TierRead::Status::Read) return out;
    auto jwe = aes_gcm_open(tier_key(sid, "emergency").str(), read.nonce, tier_aad(h, "emergency", read.expires_at),
                            read.sealed);
    if (!jwe) return out;  // a tampered row hands out nothing
    out.outcome = TierOutcome::Read;
    out.content = std::move(*jwe);
    return out;
}

TierRevealed Service::break_glass(std::string_view sid, std::string_view attestation, const Requester& who) {
    TierRevealed out;
    if (!valid_sid(sid)) return out;
    auto attest = normalise_attestation(attestation);
    if (!attest) {
        out.outcome = TierOutcome::BadAttestation;
        return out;
    }
    std::string h = digest::sha256(sid);
    const auto& limits = m_config.emergency;
    int wait = minute_limit("bg-addr:" + client_tag(who.address), limits.break_glass_per_minute_per_address);
    if (wait == 0)
        wait = minute_limit("bg-link:" + base64url::encode(h.substr(0, 12)), limits.break_glass_per_minute_per_link);
    if (wait > 0) {
        out.outcome = TierOutcome::RateLimited;
        out.retry_after = wait;
        return out;
    }
    double now = m_clock.now();
    auto read =
        m_store.emergency().read(h, now, true, {now, "full", "break-glass", *attest, who.address, who.user_agent});
    if (read.status == TierRead::Status::Paused) {
        out.outcome = TierOutcome::Paused;
        out.retry_after = std::max(1, static_cast<int>(std::ceil(read.paused_until - now)));
        return out;
    }
    if (read.status != TierRead::Status::Read) return out;
    auto jwe = aes_gcm_open(tier_key(sid, "full").str(), read.nonce, tier_aad(h, "full", read.expires_at), read.sealed);
    if (!jwe) return out;
    out.outcome = TierOutcome::Read;
    out.content = std::move(*jwe);
    return out;
}

bool Service::is_emergency(std::string_view sid) {
    return valid_sid(sid) && m_store.emergency().is_emergency(digest::sha256(sid));
}

Revealed Service::reveal_full(std::string_view sid, std::string_view pin, const Requester& who) {
    Revealed out = reveal(sid, pin, who.address);
    if (out.outcome == RevealOutcome::Revealed)
        m_store.emergency().record(digest::sha256(sid),
                                   {m_clock.now(), "full", "pin", "", who.address, who.user_agent});
    return out;
}

std::optional<EmergencyStatus> Service::emergency_status(const std::string& id, int64_t owner) {
    auto info = m_store.emergency().info(id, owner);
    if (!info) return std::nullopt;
    auto share = status(id, owner);
    if (!share) return std::nullopt;
    return EmergencyStatus{std::move(*share), std::move(*info)};
}

bool Service::resume_break_glass(const std::string& id, int64_t owner) {
    return m_store.emergency().resume_break_glass(id, owner, m_clock.now());
}

}  // namespace shcx::share
