#include "shcx/share/service.h"

#include <chrono>
#include <cmath>

#include "shcx/base64url.h"
#include "shcx/digest.h"

namespace shcx::share {
namespace {
std::string be64(int64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<size_t>(i)] = static_cast<char>(v & 0xFF);
    return s;
}
std::string h_of(std::string_view sid) { return digest::sha256(sid); }
bool valid_sid(std::string_view sid) { return sid.size() == 22 && base64url::is_alphabet(sid); }
// Share ids and user tokens are typed as command-line arguments, where one starting with
// '-' (1 in 64 of base64url strings) would be read as an option: such draws are redone.
std::string argument_safe_random(size_t bytes) {
    for (;;) {
        std::string s = base64url::encode(random_bytes(bytes));
        if (s.front() != '-') return s;
        secure_wipe(s);
    }
}
int64_t minute_of(double t) { return static_cast<int64_t>(std::floor(t / 60)); }
}  // namespace

// One of max_concurrent_kdf places to run Argon2id: a flood queues instead of allocating
// m_cost per request. A reveal holds it from its lease to its verdict (see reveal()).
class KdfSlot {
public:
    explicit KdfSlot(Service& s) : m_s(s) { acquire(); }
    ~KdfSlot() { release(); }
    void acquire() {
        std::unique_lock<std::mutex> lock(m_s.m_kdf_mutex);
        m_s.m_kdf_cv.wait(lock, [&] { return m_s.m_kdf_running < m_s.m_config.max_concurrent_kdf; });
        ++m_s.m_kdf_running;
        m_held = true;
    }
    void release() {
        if (!m_held) return;
        std::lock_guard<std::mutex> lock(m_s.m_kdf_mutex);
        --m_s.m_kdf_running;
        m_held = false;
        m_s.m_kdf_cv.notify_one();
    }

private:
    Service& m_s;
    bool m_held = false;
};

double SystemClock::now() const {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

Service::Service(Store& store, const Clock& clock, ServiceConfig config)
    : m_store(store), m_clock(clock), m_config(std::move(config)) {}

std::string Service::user_token_hash(std::string_view token) const {
    return hmac_sha256(m_config.pepper, "shcx1|token|" + std::string(token));
}

std::optional<double> Service::expiry_after(std::optional<double> ttl) const {
    if (!ttl) return std::nullopt;
    return m_clock.now() + *ttl;
}

Result<SecretString> Service::add_user(const std::string& name, std::optional<double> ttl) {
    if (name.empty() || name.size() > 64 || name == "(local)")
        return make_error(ErrorCode::USAGE, "user names are 1 to 64 characters (and not \"(local)\")");
    if (ttl && !(*ttl > 0)) return make_error(ErrorCode::USAGE, "a token lifetime must be more than 0");
    SecretString token(argument_safe_random(32));
    auto id = m_store.add_user(name, user_token_hash(token.str()), m_clock.now(), expiry_after(ttl));
    if (!id) return id.error();
    return token;
}

Result<SecretString> Service::rotate_user(const std::string& name, std::optional<double> ttl) {
    if (ttl && !(*ttl > 0)) return make_error(ErrorCode::USAGE, "a token lifetime must be more than 0");
    SecretString token(argument_safe_random(32));
    if (!m_store.rotate_user(name, user_token_hash(token.str()), expiry_after(ttl)))
        return make_error(ErrorCode::USAGE, "no user named \"" + name + "\"");
    return token;
}

Result<int> Service::remove_user(const std::string& name) {
    auto revoked = m_store.remove_user(name, m_clock.now());
    if (!revoked) return make_error(ErrorCode::USAGE, "no user named \"" + name + "\"");
    return *revoked;
}

Authenticated Service::authenticate(std::string_view token) {
    Authenticated out;
    if (token.empty() || token.size() > 128) return out;
    auto owner = m_store.user_by_token_hash(user_token_hash(token), m_clock.now());
    if (!owner) return out;
    out.status = owner->expired ? Authenticated::Status::Expired : Authenticated::Status::Ok;
    out.user = owner->id;
    return out;
}

std::string Service::client_tag(std::string_view address) const {
    return base64url::encode(hmac_sha256(m_config.pepper, "shcx1|client|" + std::string(address)).substr(0, 12));
}

std::string Service::aad(std::string_view h, double expires_at, int max_reveals) {
    return "shcx1" + std::string(h) + be64(static_cast<int64_t>(expires_at)) + be64(max_reveals);
}

SecretString Service::derive_p(std::string_view pin, std::string_view salt, const KdfParams& params) {
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
    if (m_store.bump_counter("create:" + std::to_string(owner), minute_of(now)) > m_config.creates_per_minute)
        return make_error(ErrorCode::SHARE_RATE_LIMITED,
                          "at most " + std::to_string(m_config.creates_per_minute) + " shares per minute");
    Created c;
    c.sid = base64url::encode(random_bytes(16));
    c.id = new_share_id();
    c.pin = generate_pin();
    c.reveals = reveals;
    c.expires_at = std::floor(now + ttl);
    ShareRecord r = seal_share(owner, c.sid, c.id, c.pin, content_jwe, reveals, now, c.expires_at);
    if (auto e = m_store.insert(r)) return *e;
    return c;
}

std::string Service::new_share_id() { return argument_safe_random(12); }

ShareRecord Service::seal_share(int64_t owner, std::string_view sid, const std::string& id, const SecretString& pin,
                                std::string_view content_jwe, int reveals, double now, double expires_at) {
    ShareRecord r;
    r.h = h_of(sid);
    r.id = id;
    r.owner = owner;
    r.created_at = now;
    r.expires_at = expires_at;
    r.max_reveals = r.reveals_left = reveals;
    r.fails_allowed = m_config.fails_allowed;
    r.salt = random_bytes(16);
    r.kdf_params = m_config.kdf.encode();
    r.content_bytes = static_cast<int64_t>(content_jwe.size());
    SecretString p;
    {
        KdfSlot slot(*this);
        p = derive_p(pin.str(), r.salt, m_config.kdf);
    }
    r.verifier = hmac_sha256(m_config.pepper, "shcx1|verify|" + r.h + p.str());
    SecretString wrap(hmac_sha256(m_config.pepper, "shcx1|wrap|" + r.h + p.str()));
    SecretString kek(*hkdf_sha256(wrap.str(), r.h, "shcx1|outer", 32));
    r.nonce = random_bytes(12);
    r.sealed = aes_gcm_seal(kek.str(), r.nonce, aad(r.h, r.expires_at, r.max_reveals), content_jwe);
    return r;
}

int Service::reveal_rate_wait(std::string_view address, int limit) {
    // Keyed by the address's HMAC tag: no client address is ever written to the database.
    double now = m_clock.now();
    int64_t window = minute_of(now);
    if (m_store.bump_counter("reveal:" + client_tag(address), window) <= limit) return 0;
    return std::max(1, static_cast<int>(std::ceil(static_cast<double>(window + 1) * 60 - now)));
}

bool Service::is_live(std::string_view sid) {
    if (!valid_sid(sid)) return false;
    return m_store.is_live(h_of(sid), m_clock.now());
}

void Service::lease_ended() {
    std::lock_guard<std::mutex> lock(m_lease_mutex);
    m_lease_cv.notify_all();
}

Revealed Service::reveal(std::string_view sid, std::string_view pin_input, std::string_view client_address) {
    if (!valid_sid(sid)) return {};  // Gone
    auto pin = normalise_pin(pin_input);
    if (!pin) {
        Revealed out;
        out.outcome = RevealOutcome::MalformedPin;  // nothing charged
        return out;
    }
    return check_pin(sid, &*pin, client_address);
}

Revealed Service::reveal_passcode(std::string_view sid, std::optional<std::string_view> passcode,
                                  std::string_view client_address) {
    if (!valid_sid(sid)) return {};  // Gone
    auto pin = passcode ? normalise_pin(*passcode) : std::nullopt;
    return check_pin(sid, pin ? &*pin : nullptr, client_address);
}

Revealed Service::check_pin(std::string_view sid, const SecretString* pin, std::string_view client_address) {
    Revealed out;
    std::string h = h_of(sid);
    std::string client = client_tag(client_address);
    // Step 2: a KDF slot, then an attempt lease (docs/share-protocol-hardening.md). The
    // slot comes first so a lease only lives as long as one KDF and its verdict.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(m_config.lease_wait_seconds);
    KdfSlot slot(*this);
    Lease lease;
    for (;;) {
        double now = m_clock.now();
        lease = m_store.precharge(h, now, now + m_config.lease_seconds);
        if (lease.status == Lease::Status::Gone) return out;
        if (lease.status == Lease::Status::Granted) break;
        // Busy: every attempt left is held by a request in flight (or by a process that
        // died, until its leases lapse). Wait for one to end; never burn anything.
        slot.release();
        if (std::chrono::steady_clock::now() >= deadline) {
            out.outcome = RevealOutcome::Busy;
            out.retry_after = std::max(1, static_cast<int>(std::ceil(lease.busy_until - now)));
            return out;
        }
        {
            std::unique_lock<std::mutex> lock(m_lease_mutex);
            m_lease_cv.wait_for(lock, std::chrono::milliseconds(25));  // other processes: polled
        }
        slot.acquire();
    }
    // Until a verdict is recorded, any way out hands the attempt back.
    struct Unverdicted {
        Service& s;
        int64_t lease;
        bool open = true;
        ~Unverdicted() {
            if (!open) return;
            try {
                s.m_store.release_lease(lease);
            } catch (...) {
                // it lapses by itself after lease_seconds
            }
            s.lease_ended();
        }
    } pending{*this, lease.id};
    // Step 3: derive and compare outside any transaction. No PIN at all (a passcode that
    // cannot be one) is wrong without a KDF.
    SecretString p;
    bool right = false;
    if (pin) {
        auto params = KdfParams::decode(lease.inputs.kdf_params);
        if (!params) return out;
        p = derive_p(pin->str(), lease.inputs.salt, *params);
        std::string v = hmac_sha256(m_config.pepper, "shcx1|verify|" + h + p.str());
        right = constant_time_equal(v, lease.inputs.verifier);
    }
    slot.release();
    if (!right) {
        // Step 4. Should this transaction fail, the lease is left to lapse: the attempt
        // comes back only after lease_seconds.
        pending.open = false;
        auto burned = m_store.burn_attempt(h, lease.id, m_clock.now(), client);
        lease_ended();
        if (!burned) return out;  // the share died meanwhile
        out.outcome = RevealOutcome::WrongPin;
        out.attempts_left = burned->attempts_left;
        return out;
    }
    // Step 5: the atomic take; losing the race is a 404.
    pending.open = false;
    auto taken = m_store.take_reveal(h, lease.id, m_clock.now(), client);
    lease_ended();
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
    return m_store.revoke(id, owner, m_clock.now(), client_tag(client_address));
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
