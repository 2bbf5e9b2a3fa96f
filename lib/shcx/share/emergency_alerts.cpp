// The owner's alert on break glass (docs/emergency.md, "The owner's alert"): the outbox
// rows written by a break-glass read are POSTed, signed, to the owner's webhook, retried
// with exponential backoff and given up after the policy's last attempt.
#include <cmath>

#include "shcx/detail/json.h"
#include "shcx/digest.h"
#include "shcx/http_client.h"
#include "shcx/share/service.h"
#include "shcx/timeutil.h"

namespace shcx::share {

double alert_backoff(const AlertPolicy& policy, int attempt) {
    double wait = policy.first_retry_s * std::pow(2.0, std::max(0, attempt - 1));
    return std::min(wait, policy.max_retry_s);
}

std::string alert_body(int64_t alert_seq, const std::string& share_id, const EmergencyAccess& access) {
    detail::Json body = {{"event", "break_glass"},    {"alert_id", alert_seq},
                         {"share_id", share_id},      {"at", timeutil::format_utc(access.at)},
                         {"tier", access.tier},       {"attestation", access.attestation},
                         {"address", access.address}, {"user_agent", access.user_agent}};
    // A User-Agent is whatever bytes a client sent: invalid UTF-8 becomes U+FFFD.
    return body.dump(-1, ' ', false, detail::Json::error_handler_t::replace);
}

std::string alert_signature(std::string_view secret, int64_t unix_time, std::string_view body) {
    std::string t = std::to_string(unix_time);
    return "t=" + t + ",v1=" + digest::hex(hmac_sha256(secret, t + "." + std::string(body)));
}

int Service::deliver_alerts(const AlertPolicy& policy, const std::atomic<bool>* cancel) {
    auto claims = m_store.emergency().claim_alerts(m_clock.now(), policy.lease_s, policy.batch);
    int attempted = 0;
    for (auto& claim : claims) {
        if (cancel && cancel->load()) break;  // the rest come back when their lease ends
        ++attempted;
        auto secret = aes_gcm_open(notify_key(claim.share_id).str(), claim.nonce, "shcx1|notify|" + claim.share_id,
                                   claim.sealed_secret);
        if (!secret) {
            // A tampered row or another pepper: nothing can sign it, ever.
            m_store.emergency().alert_failed(claim.seq, m_clock.now(), 0, "the webhook secret does not open",
                                             std::nullopt);
            continue;
        }
        SecretString key(std::move(*secret));
        http::Request req;
        req.url = claim.url;
        req.method = "POST";
        req.body = alert_body(claim.seq, claim.share_id, claim.access);
        auto t = static_cast<int64_t>(std::floor(m_clock.now()));
        req.headers = {{"Content-Type", "application/json"},
                       {kSignatureHeader, alert_signature(key.str(), t, req.body)},
                       {"Shcx-Alert-Id", std::to_string(claim.seq)}};
        req.follow_redirects = false;       // the owner's URL, not wherever it points
        req.max_bytes = size_t{64} * 1024;  // the answer is read and dropped
        req.connect_timeout_s = std::min(policy.timeout_s, 5L);
        req.total_timeout_s = policy.timeout_s;
        req.user_agent = "shcx-alerts/0.1";
        req.cancel = cancel;
        auto sent = http::send(req);
        double now = m_clock.now();
        if (sent && sent.value().status >= 200 && sent.value().status < 300) {
            m_store.emergency().alert_delivered(claim.seq, now, static_cast<int>(sent.value().status));
            continue;
        }
        int status = sent ? static_cast<int>(sent.value().status) : 0;
        std::string why = sent ? "HTTP " + std::to_string(status) : sent.error().message;
        if (why.size() > 200) why.resize(200);
        std::optional<double> retry_at;
        if (claim.attempts < policy.max_attempts) retry_at = now + alert_backoff(policy, claim.attempts);
        m_store.emergency().alert_failed(claim.seq, now, status, why, retry_at);
    }
    return attempted;
}

}  // namespace shcx::share
