#include "shcx/share/service.h"

#include <chrono>
#include <cmath>

#include "shcx/base64url.h"

namespace shcx::share {
namespace {
std::string be64(int64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<size_t>(i)] = static_cast<char>(v & 0xFF);
    return s;
}
std::string h_of(std::string_view sid) { return sha256(sid); }
}  // namespace

double SystemClock::now() const {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

Service::Service(Store& store, const Clock& clock, ServiceConfig config)
    : m_store(store), m_clock(clock), m_config(std::move(config)) {}

std::string Service::user_token_hash(std::string_view token) const {
    return hmac_sha256(m_config.pepper, "shcx1|token|" + std::string(token));
}

Result<SecretString> Service::add_user(const std::string& name) {
    if (name.empty() || name.size() > 64) return make_error(ErrorCode::USAGE, "user names are 1 to 64 characters");
    SecretString token(base64url::encode(random_bytes(32)));
    auto id = m_store.add_user(name, user_token_hash(token.str()));
    if (!id) return id.error();
    return token;
}

std::optional<int64_t> Service::authenticate(std::string_view token) {
    if (token.empty() || token.size() > 128) return std::nullopt;
    return m_store.user_by_token_hash(user_token_hash(token));
}

std::string Service::client_tag(std::string_view address) const {
    return base64url::encode(hmac_sha256(m_config.pepper, "shcx1|client|" + std::string(address)).substr(0, 12));
}

std::string Service::aad(std::string_view h, double expires_at, int max_reveals) {
    return "shcx1" + std::string(h) + be64(static_cast<int64_t>(expires_at)) + be64(max_reveals);
}

SecretString Service::derive_p(std::string_view pin, std::string_view salt, const KdfParams& params) {
    // At most max_concurrent_kdf evaluations at once: a flood queues instead of
    // allocating m_cost per request.
    std::unique_lock<std::mutex> lock(m_kdf_mutex);
    m_kdf_cv.wait(lock, [&] { return m_kdf_running < m_config.max_concurrent_kdf; });
    ++m_kdf_running;
    lock.unlock();
    struct Release {
        Service* s;
        ~Release() {
            std::lock_guard<std::mutex> l(s->m_kdf_mutex);
            --s->m_kdf_running;
            s->m_kdf_cv.notify_one();
        }
    } release{this};
    ++m_kdf_count;
    return argon2id(pin, salt, params);
}

Result<Created> Service::create(int64_t owner, std::string_view content_jwe, int reveals, double ttl) {
    if (reveals < 1 || reveals > 100) return make_error(ErrorCode::SHARE_INVALID, "reveals must be between 1 and 100");
    if (!(ttl > 0) || ttl > kMaxTtlSeconds)
        return make_error(ErrorCode::SHARE_INVALID, "the lifetime must be more than 0 and at most 6 hours");
    if (content_jwe.empty() || content_jwe.size() > kMaxContentBytes)
        return make_error(ErrorCode::SHARE_INVALID, "the content must be 1 byte to 1.5 MiB of client-encrypted JWE");
    double now = m_clock.now();
    int64_t window = static_cast<int64_t>(std::floor(now / 60));
    if (m_store.bump_counter("create:" + std::to_string(owner), window) > m_config.creates_per_minute)
        return make_error(ErrorCode::SHARE_RATE_LIMITED,
                          "at most " + std::to_string(m_config.creates_per_minute) + " shares per minute");
    Created c;
    c.sid = base64url::encode(random_bytes(16));
    c.id = base64url::encode(random_bytes(12));
    c.pin = generate_pin();
    c.reveals = reveals;
    c.expires_at = std::floor(now + ttl);
    ShareRecord r;
    r.h = h_of(c.sid);
    r.id = c.id;
    r.owner = owner;
    r.created_at = now;
    r.expires_at = c.expires_at;
    r.max_reveals = r.reveals_left = reveals;
    r.fails_left = m_config.fails_allowed;
    r.salt = random_bytes(16);
    r.kdf_params = m_config.kdf.encode();
    r.content_bytes = static_cast<int64_t>(content_jwe.size());
    SecretString p = derive_p(c.pin.str(), r.salt, m_config.kdf);
    r.verifier = hmac_sha256(m_config.pepper, "shcx1|verify|" + r.h + p.str());
    SecretString wrap(hmac_sha256(m_config.pepper, "shcx1|wrap|" + r.h + p.str()));
    SecretString kek(*hkdf_sha256(wrap.str(), r.h, "shcx1|outer", 32));
    r.nonce = random_bytes(12);
    r.sealed = aes_gcm_seal(kek.str(), r.nonce, aad(r.h, r.expires_at, r.max_reveals), content_jwe);
    if (auto e = m_store.insert(r)) return *e;
    return c;
}

bool Service::is_live(std::string_view sid) {
    if (sid.size() != 22 || !base64url::is_alphabet(sid)) return false;
    return m_store.is_live(h_of(sid), m_clock.now());
}

Revealed Service::reveal(std::string_view sid, std::string_view pin_input, std::string_view client_address) {
    Revealed out;
    if (sid.size() != 22 || !base64url::is_alphabet(sid)) return out;  // Gone
    auto pin = normalise_pin(pin_input);
    if (!pin) {
        out.outcome = RevealOutcome::MalformedPin;  // nothing charged
        return out;
    }
    std::string h = h_of(sid);
    // Step 2: charge the attempt first; a burst can test no more PINs than fails_left.
    if (!m_store.precharge(h, m_clock.now())) return out;
    auto in = m_store.kdf_inputs(h);
    auto params = in ? KdfParams::decode(in->kdf_params) : std::nullopt;
    if (!in || !params) return out;
    std::string client = client_tag(client_address);
    // Step 3: derive and compare outside any transaction.
    SecretString p = derive_p(pin->str(), in->salt, *params);
    std::string v = hmac_sha256(m_config.pepper, "shcx1|verify|" + h + p.str());
    if (!constant_time_equal(v, in->verifier)) {
        // Step 4.
        m_store.audit(in->id, "wrong_pin", client, m_clock.now());
        if (m_store.destroy_if_exhausted(h)) m_store.audit(in->id, "destroyed", client, m_clock.now());
        out.outcome = RevealOutcome::WrongPin;
        return out;
    }
    // Step 5: the atomic take; losing the race is a 404.
    auto taken = m_store.take_reveal(h, m_clock.now(), client);
    if (!taken) return out;
    SecretString wrap(hmac_sha256(m_config.pepper, "shcx1|wrap|" + h + p.str()));
    SecretString kek(*hkdf_sha256(wrap.str(), h, "shcx1|outer", 32));
    auto content = aes_gcm_open(kek.str(), taken->nonce, aad(h, taken->expires_at, taken->max_reveals), taken->sealed);
    if (!content) return out;  // tampered database row: never hand out anything
    out.outcome = RevealOutcome::Revealed;
    out.content = std::move(*content);
    return out;
}

bool Service::revoke(const std::string& id, int64_t owner, std::string_view client_address) {
    bool done = m_store.revoke(id, owner);
    if (done) m_store.audit(id, "revoked", client_tag(client_address), m_clock.now());
    return done;
}

std::optional<ShareStatus> Service::status(const std::string& id, int64_t owner) {
    auto r = m_store.find(id, owner);
    if (!r) return std::nullopt;
    // A live share past its expiry is expired even before the sweeper gets to it.
    if (r->state == "live" && r->expires_at <= m_clock.now()) r->state = "expired";
    return ShareStatus{*r, m_store.audit_events(id)};
}

int Service::sweep() { return m_store.sweep(m_clock.now()); }

}  // namespace shcx::share
