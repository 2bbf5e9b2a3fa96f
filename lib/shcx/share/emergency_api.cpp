// POST {public}/e/{sid}: the emergency share's reads over HTTP (docs/emergency.md,
// "HTTP"). The body is JSON: {"tier": "emergency"}, {"tier": "full", "challenge": PIN}
// or {"tier": "full", "attestation": "NAME; ROLE; REASON"}. The answer is the tier's
// client-encrypted JWE (application/jose), or a JSON error. And the owner's side
// (docs/emergency.md, "The owner's HTTP API"): POST /api/v1/emergency creates one,
// POST /api/v1/shares/{id}/rotate re-keys it, POST /api/v1/shares/{id}/resume ends a
// break-glass pause; DELETE /api/v1/shares/{id} (api.cpp) revokes it like any share.
#include <variant>

#include "shcx/detail/json.h"
#include "shcx/share/api.h"
#include "shcx/timeutil.h"

namespace shcx::share {
namespace {

using detail::Json;

HttpResponse json_answer(int status, const Json& j) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = j.dump() + "\n";
    return r;
}

HttpResponse retry_later(const char* error, int seconds) {
    auto r = json_answer(429, {{"error", error}});
    r.headers.push_back({"Retry-After", std::to_string(seconds)});
    return r;
}

HttpResponse gone() {
    HttpResponse r;
    r.status = 404;
    r.content_type = "text/html; charset=utf-8";
    r.body = Api::not_found_body();
    return r;
}

HttpResponse tier_answer(TierRevealed t) {
    switch (t.outcome) {
        case TierOutcome::Read: {
            HttpResponse r;
            r.content_type = "application/jose";
            r.body = std::move(t.content);
            return r;
        }
        case TierOutcome::RateLimited: return retry_later("rate_limited", t.retry_after);
        case TierOutcome::Paused: return retry_later("break_glass_paused", t.retry_after);
        case TierOutcome::BadAttestation:
            return json_answer(400, {{"error", "bad_attestation"},
                                     {"message", "State your name, role and reason: \"NAME; ROLE; REASON\"."}});
        case TierOutcome::Gone: break;
    }
    return gone();
}

// 400, 404 or 429 for a refused create or rotate: a stable "error", a "message" for people.
HttpResponse refused(const Error& e) {
    if (e.code == ErrorCode::SHARE_RATE_LIMITED) {
        auto r = json_answer(429, {{"error", "rate_limited"}, {"message", e.message}});
        r.headers.push_back({"Retry-After", "60"});
        return r;
    }
    if (e.code == ErrorCode::SHARE_NOT_FOUND) return json_answer(404, {{"error", "not_found"}});
    return json_answer(400, {{"error", "invalid"}, {"message", e.message}});
}

// The two client-encrypted tiers of a create or rotate body. Together they fit in one
// request (server.h: kMaxRequestBody), so the API takes at most kMaxContentBytes of both.
struct Tiers {
    std::string emergency, full, label, notify_url;
    std::optional<long> ttl;
};
std::variant<Tiers, HttpResponse> tiers_of(const HttpRequest& req) {
    auto body = detail::parse_json(req.body, 4);
    if (!body || !body->is_object())
        return json_answer(400,
                           {{"error", "invalid"}, {"message", "the body is a JSON object with emergency and full"}});
    Tiers t;
    auto emergency = detail::string_member(*body, "emergency");
    auto full = detail::string_member(*body, "full");
    if (!emergency || !full)
        return json_answer(
            400, {{"error", "invalid"}, {"message", "emergency and full are the tiers' client-encrypted JWEs"}});
    if (emergency->size() + full->size() > kMaxContentBytes)
        return json_answer(413, {{"error", "too_large"},
                                 {"message", "the two tiers together are at most 1.5 MiB of client-encrypted JWE"}});
    t.emergency = std::move(*emergency);
    t.full = std::move(*full);
    t.label = detail::string_member(*body, "label").value_or("");
    t.notify_url = detail::string_member(*body, "notify_url").value_or("");
    if (body->contains("ttl")) {
        t.ttl = detail::integer_member(*body, "ttl");
        if (!t.ttl) return json_answer(400, {{"error", "invalid"}, {"message", "ttl is a whole number of seconds"}});
    }
    return t;
}

HttpResponse created_answer(const std::string& public_url, const EmergencyCreated& c) {
    Json out{{"id", c.id},
             {"url", public_url + std::string(kEmergencyPath) + c.sid},
             {"challenge", c.pin.str()},
             {"expires_at", timeutil::format_utc(c.expires_at)},
             {"label", c.label},
             {"kind", "emergency"}};
    if (!c.notify_secret.str().empty()) {  // shown once, like the PIN
        out["notify_url"] = c.notify_url;
        out["notify_secret"] = c.notify_secret.str();
    }
    return json_answer(201, out);
}

}  // namespace

std::string emergency_status_json(const EmergencyStatus& st) {
    Json out = *detail::parse_json(status_json(st.share));
    Json accesses = Json::array();
    for (const auto& a : st.emergency.accesses)
        accesses.push_back({{"at", timeutil::format_utc(a.at)},
                            {"tier", a.tier},
                            {"via", a.via},
                            {"attestation", a.attestation},
                            {"address", a.address},
                            {"user_agent", a.user_agent}});
    const auto& e = st.emergency;
    out["emergency"] = {
        {"label", e.label},
        {"break_glass",
         {{"uses", e.break_glass_uses},
          {"max_uses", e.break_glass_max_uses},
          {"pause_seconds", e.break_glass_pause},
          {"paused_until",
           e.break_glass_paused_until > 0 ? Json(timeutil::format_utc(e.break_glass_paused_until)) : Json(nullptr)}}},
        {"accesses", accesses}};
    // The owner's break-glass alerts (the URL, never its secret).
    Json alerts = Json::array();
    for (const auto& a : e.alerts)
        alerts.push_back({{"id", a.seq},
                          {"at", timeutil::format_utc(a.at)},
                          {"state", a.state},
                          {"attempts", a.attempts},
                          {"last_status", a.last_status},
                          {"last_error", a.last_error},
                          {"done_at", a.done_at > 0 ? Json(timeutil::format_utc(a.done_at)) : Json(nullptr)}});
    out["emergency"]["notify_url"] = e.notify_url.empty() ? Json(nullptr) : Json(e.notify_url);
    out["emergency"]["alerts"] = alerts;
    return out.dump() + "\n";
}

HttpResponse Api::emergency(const HttpRequest& req, const std::string& sid) {
    if (req.body.size() > kMaxRevealBody) return json_answer(413, {{"error", "too_large"}});
    auto body = detail::parse_json(req.body, 4);
    if (!body || !body->is_object()) return json_answer(400, {{"error", "the body is a JSON object with a tier"}});
    auto tier = detail::string_member(*body, "tier");
    Requester who{req.remote_addr, req.user_agent};
    if (tier == "emergency") return tier_answer(m_service.read_emergency(sid, who));
    if (tier != "full") return json_answer(400, {{"error", "tier is \"emergency\" or \"full\""}});
    if (auto attestation = detail::string_member(*body, "attestation"))
        return tier_answer(m_service.break_glass(sid, *attestation, who));
    // The PIN: the same per-address budget and answers as the PIN page's reveal.
    if (auto limited = rate_limited(req)) return std::move(*limited);
    auto challenge = detail::string_member(*body, "challenge");
    if (!challenge)
        return json_answer(400, {{"error", "a full-tier request has a challenge (the PIN) or an attestation"}});
    SecretString pin(std::move(*challenge));
    auto r = m_service.reveal_full(sid, pin.str(), who);
    switch (r.outcome) {
        case RevealOutcome::Revealed: {
            HttpResponse ok;
            ok.content_type = "application/jose";
            ok.body = std::move(r.content);
            return ok;
        }
        case RevealOutcome::WrongPin: {
            Json j = {{"error", "wrong_pin"}, {"remaining_attempts", r.attempts_left}};
            if (r.attempts_left == 0) j["destroyed"] = true;
            return json_answer(403, j);
        }
        case RevealOutcome::MalformedPin: return json_answer(403, {{"error", "malformed_pin"}});
        case RevealOutcome::Busy: return retry_later("busy", r.retry_after);
        case RevealOutcome::Gone: break;
    }
    return gone();
}

HttpResponse Api::create_emergency(const HttpRequest& req, int64_t owner) {
    auto tiers = tiers_of(req);
    if (auto* bad = std::get_if<HttpResponse>(&tiers)) return std::move(*bad);
    auto& t = std::get<Tiers>(tiers);
    if (!t.ttl)
        return json_answer(400, {{"error", "invalid"}, {"message", "ttl (seconds, at most 5 years) is required"}});
    auto made =
        m_service.create_emergency(owner, t.emergency, t.full, static_cast<double>(*t.ttl), t.label, t.notify_url);
    if (!made) return refused(made.error());
    return created_answer(m_public_url, made.value());
}

HttpResponse Api::rotate_emergency(const HttpRequest& req, int64_t owner, const std::string& id) {
    auto tiers = tiers_of(req);
    if (auto* bad = std::get_if<HttpResponse>(&tiers)) return std::move(*bad);
    auto& t = std::get<Tiers>(tiers);
    if (t.ttl || !t.label.empty())
        return json_answer(400, {{"error", "invalid"}, {"message", "a rotated share keeps its label and expiry"}});
    auto made = m_service.rotate_emergency(id, owner, t.emergency, t.full, t.notify_url);
    if (!made) return refused(made.error());
    return created_answer(m_public_url, made.value());
}

HttpResponse Api::resume_emergency(int64_t owner, const std::string& id) {
    if (!m_service.resume_break_glass(id, owner)) return json_answer(404, {{"error", "not_found"}});
    return json_answer(200, {{"id", id}, {"break_glass", "resumed"}});
}

}  // namespace shcx::share
