#include "shcx/trust/trust.h"

#include <atomic>
#include <charconv>
#include <set>

#include "shcx/card/card.h"
#include "shcx/detail/json.h"
#include "shcx/jose/jwk_json.h"

namespace shcx::trust {
namespace {

using detail::Json;
using detail::string_member;

Error crl_error(const std::string& source, const std::string& msg) {
    return make_error(ErrorCode::CRL_INVALID, source + ": " + msg);
}

Result<Crl> crl_from_json(const Json& j, const std::string& source) {
    if (!j.is_object()) return crl_error(source, "CRL is not a JSON object");
    Crl crl;
    crl.source = source;
    crl.kid = string_member(j, "kid").value_or("");
    if (crl.kid.empty()) return crl_error(source, "CRL has no kid");
    crl.method = string_member(j, "method").value_or("");
    if (crl.method != "rid") return crl_error(source, "CRL method \"" + crl.method + "\" is not \"rid\"");
    auto ctr = detail::integer_member(j, "ctr");
    if (!ctr || *ctr < 0) return crl_error(source, "CRL ctr is not a non-negative integer");
    crl.ctr = *ctr;
    const Json* rids = detail::member(j, "rids");
    if (!rids || !rids->is_array()) return crl_error(source, "CRL has no rids array");
    std::set<std::string> seen;
    for (const auto& r : *rids) {
        if (!r.is_string()) return crl_error(source, "CRL rids entry is not a string");
        std::string text = r.get<std::string>();
        CrlEntry e;
        auto dot = text.find('.');
        e.rid = text.substr(0, dot);
        if (!card::rid_is_valid(e.rid))
            return crl_error(source, "CRL rid \"" + e.rid + "\" is not 1-24 base64url characters");
        if (dot != std::string::npos) {
            std::string ts = text.substr(dot + 1);
            double t = 0;
            auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
            bool digits_only = !ts.empty() && ts.find_first_not_of("0123456789") == std::string::npos;
            if (!digits_only || ec != std::errc() || p != ts.data() + ts.size())
                return crl_error(source, "CRL entry \"" + text + "\" has a bad timestamp (seconds expected)");
            e.before = t;
        }
        if (!seen.insert(e.rid).second) return crl_error(source, "CRL lists rid \"" + e.rid + "\" twice");
        crl.entries.push_back(std::move(e));
    }
    return crl;
}

}  // namespace

Result<Crl> parse_crl(std::string_view json, const std::string& source) {
    auto parsed = detail::parse_json_checked(json);
    if (!parsed.value) return crl_error(source, "CRL is not valid JSON: " + parsed.error);
    return crl_from_json(*parsed.value, source);
}

std::string crl_kid(std::string_view json) {
    auto j = detail::parse_json(json);
    return j ? string_member(*j, "kid").value_or("") : "";
}

Result<Snapshot> parse_vci_snapshot(std::string_view json, const std::string& source) {
    auto invalid = [&](const std::string& msg) { return make_error(ErrorCode::SNAPSHOT_INVALID, source + ": " + msg); };
    auto parsed = detail::parse_json_checked(json);
    if (!parsed.value) return invalid("not valid JSON: " + parsed.error);
    const auto& j = parsed.value;
    if (!j->is_object()) return invalid("not a JSON object");
    const Json* info = detail::member(*j, "issuerInfo");
    if (!info || !info->is_array()) return invalid("no issuerInfo array");
    Snapshot snap;
    snap.time = string_member(*j, "time").value_or("");
    for (const auto& entry : *info) {
        const Json* iss_obj = detail::member(entry, "issuer");
        const Json* keys = detail::member(entry, "keys");
        if (!iss_obj || !keys || !keys->is_array()) return invalid("issuerInfo entry without issuer or keys");
        Issuer issuer;
        issuer.iss = string_member(*iss_obj, "iss").value_or("");
        if (issuer.iss.empty()) return invalid("issuerInfo entry without issuer.iss");
        issuer.name = string_member(*iss_obj, "name").value_or("");
        issuer.website = string_member(*iss_obj, "website").value_or("");
        issuer.canonical_iss = string_member(*iss_obj, "canonical_iss").value_or("");
        issuer.source = source;
        for (const auto& k : *keys) {
            auto jwk = jose::jwk_from_json(k);
            if (!jwk) return invalid("issuer " + issuer.iss + ": " + jwk.error().message);
            issuer.keys.push_back(std::move(jwk.value()));
        }
        if (const Json* crls = detail::member(entry, "crls"); crls && crls->is_array()) {
            for (const auto& c : *crls) {
                auto crl = crl_from_json(c, source + " (" + issuer.iss + ")");
                if (!crl) {
                    snap.warnings.push_back(crl.error());
                    snap.invalid_crls.push_back({issuer.iss, string_member(c, "kid").value_or(""), crl.error()});
                    continue;
                }
                snap.crls.emplace_back(issuer.iss, std::move(crl.value()));
            }
        }
        snap.issuers.push_back(std::move(issuer));
    }
    if (snap.issuers.empty()) return invalid("the snapshot lists no issuers");
    return snap;
}

Result<Issuer> issuer_from_jwks(std::string_view jwks_json, const std::string& iss, const std::string& source) {
    auto keys = jose::parse_jwks(jwks_json);
    if (!keys) return Error{keys.error().code, source + ": " + keys.error().message};
    Issuer issuer;
    issuer.iss = iss;
    issuer.source = source;
    issuer.keys = std::move(keys.value());
    return issuer;
}

void TrustStore::add_issuers(std::shared_ptr<const IssuerSource> source) {
    if (!source) return;
    if (m_source || !m_issuers.empty()) {  // not first: built in full, in order
        for (auto& issuer : source->all()) add_issuer(std::move(issuer));
        return;
    }
    m_source = std::move(source);
    m_all = std::make_shared<AllIssuers>();
}

void TrustStore::materialise() {
    if (!m_source) return;
    std::vector<Issuer> later = std::move(m_issuers);
    m_issuers.clear();
    m_by_iss.clear();
    auto first = std::move(m_source);
    m_all.reset();
    for (auto& issuer : first->all()) add_issuer(std::move(issuer));
    for (auto& issuer : later) add_issuer(std::move(issuer));
}

const std::vector<Issuer>& TrustStore::issuers() const {
    if (!m_source) return m_issuers;
    std::lock_guard<std::mutex> lock(m_all->mutex);
    if (!m_all->list) {
        TrustStore merged;
        for (auto& issuer : m_source->all()) merged.add_issuer(std::move(issuer));
        for (const auto& issuer : m_issuers) merged.add_issuer(issuer);
        m_all->list = std::move(merged.m_issuers);
    }
    return *m_all->list;
}

void TrustStore::add_snapshot(Snapshot snapshot) {
    for (auto& issuer : snapshot.issuers) add_issuer(std::move(issuer));
    for (auto& [iss, crl] : snapshot.crls) add_crl(iss, std::move(crl));
    for (auto& bad : snapshot.invalid_crls) add_invalid_crl(std::move(bad));
}

void TrustStore::add_invalid_crl(InvalidCrl crl) { m_invalid_crls.push_back(std::move(crl)); }

const InvalidCrl* TrustStore::find_invalid_crl(std::string_view iss, std::string_view kid) const {
    for (const auto& bad : m_invalid_crls)
        if ((bad.iss.empty() || bad.iss == iss) && bad.kid == kid) return &bad;
    return nullptr;
}

void TrustStore::add_issuer(Issuer issuer) {
    if (m_source && !issuer.iss.empty() && m_source->contains(issuer.iss)) materialise();
    if (m_all) m_all = std::make_shared<AllIssuers>();  // issuers() is built again
    auto it = m_by_iss.find(issuer.iss);
    if (it == m_by_iss.end()) {
        m_by_iss.emplace(issuer.iss, m_issuers.size());
        m_issuers.push_back(std::move(issuer));
        return;
    }
    Issuer& existing = m_issuers[it->second];
    if (existing.name.empty()) existing.name = issuer.name;
    for (auto& k : issuer.keys) existing.keys.push_back(std::move(k));
}

void TrustStore::add_crl(const std::string& iss, Crl crl) { m_crls.emplace_back(iss, std::move(crl)); }

TrustStore::Match TrustStore::find(std::string_view iss, std::string_view kid) const {
    Match m;
    auto collect = [&](const Issuer& issuer) {
        for (const auto& k : issuer.keys)
            if (k.kid == kid) m.keys.push_back(&k);
    };
    if (auto it = m_by_iss.find(iss); it != m_by_iss.end() && !iss.empty()) {
        m.issuer = &m_issuers[it->second];
        collect(*m.issuer);
    } else if (m_source && !iss.empty()) {
        // An iss is in the source or among the others, never both (add_issuer).
        if ((m.issuer = m_source->find(iss))) collect(*m.issuer);
    }
    // Keys the user vouched for without naming an issuer (--jwks FILE) match any iss.
    if (m.keys.empty())
        if (auto any = m_by_iss.find(std::string_view()); any != m_by_iss.end()) {
            const Issuer& wildcard = m_issuers[any->second];
            collect(wildcard);
            if (!m.keys.empty()) m.issuer = &wildcard;
        }
    return m;
}

TrustStore::KeyCache::KeyCache()
    : serial([] {
          static std::atomic<unsigned long long> next{1};
          return next.fetch_add(1);
      }()) {}

const TrustStore::CheckedKey& TrustStore::checked(const jose::Jwk& jwk) const {
    // Each thread remembers the key it checked last (most runs verify many cards of few
    // keys), so the hot path neither builds the id nor takes the lock. The entry it points
    // at lives as long as the cache; a hit needs the same cache and the same key fields.
    struct LastHit {
        unsigned long long cache = 0;
        jose::Jwk jwk;
        const CheckedKey* entry = nullptr;
    };
    thread_local LastHit last;
    auto same = [](const jose::Jwk& a, const jose::Jwk& b) {
        return a.x == b.x && a.y == b.y && a.kid == b.kid && a.kty == b.kty && a.crv == b.crv && a.use == b.use &&
               a.alg == b.alg && a.has_private == b.has_private;
    };
    if (last.cache == m_key_cache->serial && last.entry && same(last.jwk, jwk)) return *last.entry;
    std::string id = jwk.kty + "|" + jwk.crv + "|" + jwk.kid + "|" + jwk.use + "|" + jwk.alg + "|" + jwk.x + "|" +
                     jwk.y + (jwk.has_private ? "|d" : "");
    std::lock_guard<std::mutex> lock(m_key_cache->mutex);
    auto& slot = m_key_cache->entries[id];
    if (!slot) {
        slot = std::make_unique<CheckedKey>();
        slot->problems = jose::check_issuer_key(jwk);
        if (slot->problems.empty()) {
            auto key = jose::PublicKey::from_jwk(jwk);  // cannot fail once the rules pass
            if (key) slot->key = std::move(key.value());
            else slot->problems.push_back(key.error());
        }
    }
    last.cache = m_key_cache->serial;
    last.jwk = jwk;
    last.entry = slot.get();
    return *slot;
}

const Crl* TrustStore::find_crl(std::string_view iss, std::string_view kid) const {
    const Crl* best = nullptr;
    for (const auto& [crl_iss, crl] : m_crls)
        if ((crl_iss.empty() || crl_iss == iss) && crl.kid == kid && (!best || crl.ctr > best->ctr)) best = &crl;
    return best;
}

}  // namespace shcx::trust
