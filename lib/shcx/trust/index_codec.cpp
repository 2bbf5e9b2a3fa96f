// The binary layout of the compiled trust index body (index.h): little-endian integers
// and length-prefixed strings, every read bounds-checked.
#include "shcx/trust/index_codec.h"

#include <cstdint>
#include <cstring>

#include "shcx/trust/vci.h"

namespace shcx::trust_index {
namespace {

// ---- serialisation: little-endian integers, length-prefixed strings ---------------------

class Writer {
public:
    void u64(uint64_t v) { m_out.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void f64(double v) { m_out.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void str(std::string_view s) {
        u64(s.size());
        m_out.append(s);
    }
    void error(const Error& e) {
        u64(static_cast<uint64_t>(e.code));
        str(e.message);
    }
    void crl(const trust::Crl& c) {
        str(c.kid);
        str(c.method);
        u64(static_cast<uint64_t>(c.ctr));
        str(c.source);
        u64(c.entries.size());
        for (const auto& e : c.entries) {
            str(e.rid);
            u64(e.before.has_value());
            f64(e.before.value_or(0));
        }
    }
    void invalid_crl(const trust::InvalidCrl& c) {
        str(c.iss);
        str(c.kid);
        error(c.error);
    }
    std::string& out() { return m_out; }

private:
    std::string m_out;
};

// Every read is bounds-checked; a short or inconsistent index only makes `ok()` false.
class Reader {
public:
    explicit Reader(std::string_view in) : m_in(in) {}
    bool ok() const { return m_ok; }
    uint64_t u64() {
        uint64_t v = 0;
        if (!take(&v, sizeof v)) return 0;
        return v;
    }
    double f64() {
        double v = 0;
        take(&v, sizeof v);
        return v;
    }
    std::string str() {
        uint64_t n = u64();
        if (!m_ok || n > m_in.size() - m_at) {
            m_ok = false;
            return {};
        }
        std::string s(m_in.substr(m_at, n));
        m_at += n;
        return s;
    }
    // A count of items that each take at least one byte: never more than what is left.
    size_t count() {
        uint64_t n = u64();
        if (n > m_in.size() - m_at) m_ok = false;
        return m_ok ? static_cast<size_t>(n) : 0;
    }
    Error error() {
        uint64_t code = u64();
        std::string message = str();
        if (code >= all_codes().size()) {
            m_ok = false;
            code = 0;
        }
        return Error{all_codes()[code].code, std::move(message)};
    }
    trust::Crl crl() {
        trust::Crl c;
        c.kid = str();
        c.method = str();
        c.ctr = static_cast<long>(u64());
        c.source = str();
        for (size_t i = 0, n = count(); i < n && m_ok; ++i) {
            trust::CrlEntry e;
            e.rid = str();
            bool has_before = u64() != 0;
            double before = f64();
            if (has_before) e.before = before;
            c.entries.push_back(std::move(e));
        }
        return c;
    }
    trust::InvalidCrl invalid_crl() {
        trust::InvalidCrl c;
        c.iss = str();
        c.kid = str();
        c.error = error();
        return c;
    }
    bool at_end() const { return m_ok && m_at == m_in.size(); }

private:
    bool take(void* dest, size_t n) {
        if (!m_ok || n > m_in.size() - m_at) {
            m_ok = false;
            return false;
        }
        std::memcpy(dest, m_in.data() + m_at, n);
        m_at += n;
        return true;
    }
    std::string_view m_in;
    size_t m_at = 0;
    bool m_ok = true;
};

}  // namespace

std::string serialise(const Compiled& c, std::string_view files_sha256) {
    Writer w;
    w.str(files_sha256);
    w.str(vci::sources().front().certificate_sha256);
    w.f64(c.cert_not_before);
    w.f64(c.cert_not_after);
    w.str(c.snapshot.time);
    w.u64(c.snapshot.issuers.size());
    for (const auto& i : c.snapshot.issuers) {
        for (const std::string* s : {&i.iss, &i.name, &i.website, &i.canonical_iss, &i.source}) w.str(*s);
        w.u64(i.keys.size());
        for (const auto& k : i.keys) {
            for (const std::string* s : {&k.kty, &k.crv, &k.kid, &k.use, &k.alg, &k.x, &k.y}) w.str(*s);
            w.u64(k.has_private);
            w.u64(k.crl_version.has_value());
            w.u64(static_cast<uint64_t>(k.crl_version.value_or(0)));
            w.u64(k.x5c.size());
            for (const auto& cert : k.x5c) w.str(cert);
        }
    }
    w.u64(c.snapshot.crls.size());
    for (const auto& [iss, crl] : c.snapshot.crls) {
        w.str(iss);
        w.crl(crl);
    }
    w.u64(c.snapshot.invalid_crls.size());
    for (const auto& bad : c.snapshot.invalid_crls) w.invalid_crl(bad);
    w.u64(c.snapshot.warnings.size());
    for (const auto& e : c.snapshot.warnings) w.error(e);
    w.u64(c.crls.size());
    for (const auto& [iss, crl] : c.crls) {
        w.str(iss);
        w.crl(crl);
    }
    w.u64(c.invalid_crls.size());
    for (const auto& bad : c.invalid_crls) w.invalid_crl(bad);
    w.u64(c.warnings.size());
    for (const auto& e : c.warnings) w.error(e);
    return std::move(w.out());
}

std::optional<Compiled> deserialise(std::string_view body, std::string_view files_sha256,
                                    std::string_view certificate_sha256) {
    Reader r(body);
    if (r.str() != files_sha256 || r.str() != certificate_sha256 || !r.ok()) return std::nullopt;
    Compiled c;
    c.cert_not_before = r.f64();
    c.cert_not_after = r.f64();
    c.snapshot.time = r.str();
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        trust::Issuer issuer;
        for (std::string* s : {&issuer.iss, &issuer.name, &issuer.website, &issuer.canonical_iss, &issuer.source})
            *s = r.str();
        for (size_t j = 0, keys = r.count(); j < keys && r.ok(); ++j) {
            jose::Jwk k;
            for (std::string* s : {&k.kty, &k.crv, &k.kid, &k.use, &k.alg, &k.x, &k.y}) *s = r.str();
            k.has_private = r.u64() != 0;
            bool has_version = r.u64() != 0;
            long version = static_cast<long>(r.u64());
            if (has_version) k.crl_version = version;
            for (size_t x = 0, certs = r.count(); x < certs && r.ok(); ++x) k.x5c.push_back(r.str());
            issuer.keys.push_back(std::move(k));
        }
        c.snapshot.issuers.push_back(std::move(issuer));
    }
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        std::string iss = r.str();
        c.snapshot.crls.emplace_back(std::move(iss), r.crl());
    }
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) c.snapshot.invalid_crls.push_back(r.invalid_crl());
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) c.snapshot.warnings.push_back(r.error());
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        std::string iss = r.str();
        c.crls.emplace_back(std::move(iss), r.crl());
    }
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) c.invalid_crls.push_back(r.invalid_crl());
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) c.warnings.push_back(r.error());
    if (!r.at_end()) return std::nullopt;
    return c;
}

}  // namespace shcx::trust_index
