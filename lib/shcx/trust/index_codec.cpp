// The binary layout of the compiled trust index (index_codec.h): little-endian integers
// and length-prefixed strings, every read bounds-checked; and the installed files'
// identities it records.
#include "shcx/trust/index_codec.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

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
    std::string_view view() {
        uint64_t n = u64();
        if (!m_ok || n > m_in.size() - m_at) {
            m_ok = false;
            return {};
        }
        std::string_view s = m_in.substr(m_at, n);
        m_at += n;
        return s;
    }
    std::string str() { return std::string(view()); }
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

void write_crls(Writer& w, const std::vector<std::pair<std::string, trust::Crl>>& crls) {
    w.u64(crls.size());
    for (const auto& [iss, crl] : crls) {
        w.str(iss);
        w.crl(crl);
    }
}

void read_crls(Reader& r, std::vector<std::pair<std::string, trust::Crl>>& out) {
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        std::string iss = r.str();
        out.emplace_back(std::move(iss), r.crl());
    }
}

}  // namespace

std::string serialise_header(const Header& h) {
    Writer w;
    w.str(h.files_sha256);
    w.u64(h.by_content);
    w.u64(h.files.size());
    for (const auto& f : h.files) {
        w.str(f.name);
        w.u64(f.absent);
        for (uint64_t v : {f.dev, f.ino, f.size}) w.u64(v);
        for (int64_t v : {f.mtime_s, f.mtime_ns, f.ctime_s, f.ctime_ns}) w.u64(static_cast<uint64_t>(v));
    }
    w.str(h.certificate_pin);
    w.f64(h.cert_not_before);
    w.f64(h.cert_not_after);
    w.str(h.snapshot_time);
    write_crls(w, h.snapshot_crls);
    w.u64(h.snapshot_invalid_crls.size());
    for (const auto& bad : h.snapshot_invalid_crls) w.invalid_crl(bad);
    w.u64(h.snapshot_warnings.size());
    for (const auto& e : h.snapshot_warnings) w.error(e);
    write_crls(w, h.crls);
    w.u64(h.invalid_crls.size());
    for (const auto& bad : h.invalid_crls) w.invalid_crl(bad);
    w.u64(h.warnings.size());
    for (const auto& e : h.warnings) w.error(e);
    w.u64(h.issuers.size());
    for (const auto& e : h.issuers) {
        w.str(e.iss);
        w.u64(e.position);
        w.u64(e.offset);
        w.u64(e.length);
        w.str(e.sha256);
    }
    return std::move(w.out());
}

std::optional<Header> deserialise_header(std::string_view bytes) {
    Reader r(bytes);
    Header h;
    h.files_sha256 = r.str();
    h.by_content = r.u64() != 0;
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        FileId f;
        f.name = r.str();
        f.absent = r.u64() != 0;
        for (uint64_t* v : {&f.dev, &f.ino, &f.size}) *v = r.u64();
        for (int64_t* v : {&f.mtime_s, &f.mtime_ns, &f.ctime_s, &f.ctime_ns}) *v = static_cast<int64_t>(r.u64());
        h.files.push_back(std::move(f));
    }
    h.certificate_pin = r.str();
    h.cert_not_before = r.f64();
    h.cert_not_after = r.f64();
    h.snapshot_time = r.str();
    read_crls(r, h.snapshot_crls);
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) h.snapshot_invalid_crls.push_back(r.invalid_crl());
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) h.snapshot_warnings.push_back(r.error());
    read_crls(r, h.crls);
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) h.invalid_crls.push_back(r.invalid_crl());
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) h.warnings.push_back(r.error());
    size_t n = r.count();
    h.issuers.reserve(n);
    std::vector<bool> seen(n, false);
    for (size_t i = 0; i < n && r.ok(); ++i) {
        IssuerEntry e;
        e.iss = r.view();
        e.position = r.u64();
        e.offset = r.u64();
        e.length = r.u64();
        e.sha256 = r.view();
        if (!r.ok() || e.iss.empty() || e.position >= n || seen[e.position] ||
            (i > 0 && !(h.issuers.back().iss < e.iss)))
            return std::nullopt;
        seen[e.position] = true;
        h.issuers.push_back(e);
    }
    if (!r.at_end()) return std::nullopt;
    return h;
}

std::string serialise_issuer(const trust::Issuer& i) {
    Writer w;
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
    return std::move(w.out());
}

std::optional<trust::Issuer> deserialise_issuer(std::string_view bytes) {
    Reader r(bytes);
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
    if (!r.at_end()) return std::nullopt;
    return issuer;
}

// ---- the installed files' identities ------------------------------------------------

namespace fs = std::filesystem;

namespace {
constexpr const char* kBoundFiles[] = {"vci_snapshot.json", "vci_snapshot.sig", "vci_snapshot.crt", "crls"};

FileId identity(const fs::path& dir, const std::string& name) {
    FileId id;
    id.name = name;
    struct stat st {};
    if (::stat((dir / name).c_str(), &st) != 0) {
        id.absent = true;
        return id;
    }
    id.dev = static_cast<uint64_t>(st.st_dev);
    id.ino = static_cast<uint64_t>(st.st_ino);
    id.size = static_cast<uint64_t>(st.st_size);
    id.mtime_s = st.st_mtim.tv_sec;
    id.mtime_ns = st.st_mtim.tv_nsec;
    id.ctime_s = st.st_ctim.tv_sec;
    id.ctime_ns = st.st_ctim.tv_nsec;
    return id;
}

}  // namespace

// The snapshot's files, the crls/ directory (its ctime changes when an entry is added,
// removed or renamed) and every entry in it.
std::vector<FileId> identities(const fs::path& dir) {
    std::vector<FileId> out;
    for (const char* name : kBoundFiles) out.push_back(identity(dir, name));
    std::vector<std::string> crls;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "crls", ec))
        crls.push_back("crls/" + e.path().filename().string());
    std::sort(crls.begin(), crls.end());
    for (const auto& name : crls) out.push_back(identity(dir, name));
    return out;
}

namespace {
// Whether every identity was taken after its file's last change had left the clock's
// current tick: a file changed since then gets a ctime of that tick or later, so another
// ctime than recorded. `clock`: the coarse real-time clock read before the stats.
bool settled(const std::vector<FileId>& ids, const timespec& clock) {
    for (const auto& id : ids)
        if (!id.absent && (id.ctime_s > clock.tv_sec || (id.ctime_s == clock.tv_sec && id.ctime_ns >= clock.tv_nsec)))
            return false;
    return true;
}

}  // namespace

// The identities to record, and whether they can be trusted (else the index binds the
// content). A sync has usually just written the files: wait for the clock to move on.
std::pair<std::vector<FileId>, bool> bind_install(const fs::path& dir) {
    std::vector<FileId> ids;
    for (int attempt = 0; attempt < 50; ++attempt) {
        timespec clock{};
        clock_gettime(CLOCK_REALTIME_COARSE, &clock);
        ids = identities(dir);
        if (settled(ids, clock)) return {std::move(ids), true};
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return {std::move(ids), false};
}

}  // namespace shcx::trust_index
