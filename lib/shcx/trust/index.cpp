#include "shcx/trust/index.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "shcx/digest.h"
#include "shcx/fsutil.h"
#include "shcx/secure.h"
#include "shcx/trust/vci.h"

namespace shcx::trust_index {
namespace {

namespace fs = std::filesystem;

// Bumped whenever the layout or the meaning of a field changes: an older index is then
// simply not used (and rewritten by the next sync).
constexpr std::string_view kMagic = "shcx-trust-index-1\n";
constexpr size_t kMacBytes = 32;
constexpr size_t kKeyBytes = 32;

// ---- the installed files, hashed with unambiguous framing ------------------------------

// Hashed as it is read, without copying the snapshot (700 KB) into one buffer first.
std::string files_digest(const trust_store::SnapshotFiles& f) {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    bool ok = md && EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) == 1;
    auto add = [&](std::string_view part) {
        uint64_t n = part.size();
        ok = ok && EVP_DigestUpdate(md.get(), &n, sizeof n) == 1 && EVP_DigestUpdate(md.get(), part.data(), part.size()) == 1;
    };
    add(f.json);
    add(f.signature);
    add(f.certificate);
    for (const auto& c : f.crls) {
        add(c.iss);
        add(c.json);
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok || EVP_DigestFinal_ex(md.get(), out, &len) != 1) return {};  // never matches a recorded digest
    return std::string(reinterpret_cast<char*>(out), len);
}

// notBefore / notAfter of the snapshot certificate (PEM or DER), as epoch seconds.
std::optional<std::pair<double, double>> cert_validity(std::string_view certificate) {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(certificate.data(), static_cast<int>(certificate.size())),
                                            BIO_free);
    std::unique_ptr<X509, void (*)(X509*)> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                                                X509_free);
    if (!cert) {
        const unsigned char* p = reinterpret_cast<const unsigned char*>(certificate.data());
        cert.reset(d2i_X509(nullptr, &p, static_cast<long>(certificate.size())));
    }
    if (!cert) return std::nullopt;
    std::tm nb{}, na{};
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &nb) != 1 || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &na) != 1)
        return std::nullopt;
    return std::pair<double, double>{static_cast<double>(timegm(&nb)), static_cast<double>(timegm(&na))};
}

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

// The body after its recorded digest and pin have been compared by the caller.
std::optional<Compiled> deserialise(Reader& r) {
    Compiled c;
    c.cert_not_before = r.f64();
    c.cert_not_after = r.f64();
    c.snapshot.time = r.str();
    for (size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
        trust::Issuer issuer;
        for (std::string* s : {&issuer.iss, &issuer.name, &issuer.website, &issuer.canonical_iss, &issuer.source}) *s = r.str();
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

// ---- the key and the MAC -------------------------------------------------------------

std::string key_path(const std::string& store) { return (fs::path(store) / kKeyFile).string(); }

// The store's index key, when it is a regular file of the right size that only its owner
// (this user) can read or write.
std::optional<SecretString> read_key(const std::string& store) {
    int fd = ::open(key_path(store).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    struct stat st{};
    std::string key(kKeyBytes, '\0');
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 && st.st_uid == geteuid() &&
              st.st_size == static_cast<off_t>(kKeyBytes) && ::read(fd, key.data(), kKeyBytes) == static_cast<ssize_t>(kKeyBytes);
    ::close(fd);
    if (!ok) {
        secure_wipe(key);
        return std::nullopt;
    }
    return SecretString(std::move(key));
}

Result<SecretString> read_or_create_key(const std::string& store) {
    if (auto key = read_key(store)) return std::move(*key);
    std::string fresh(kKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(kKeyBytes)) != 1)
        return make_error(ErrorCode::INTERNAL, "OpenSSL could not make a random index key");
    SecretString key(std::move(fresh));
    if (auto e = fsutil::write_file_atomic(key_path(store), key.str(), 0600)) return *e;
    return key;
}

std::string mac(const SecretString& key, std::string_view body) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.str().data(), static_cast<int>(key.str().size()), reinterpret_cast<const unsigned char*>(body.data()),
         body.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
}

// A read-only mapping of a whole file, unmapped when destroyed.
class Mapped {
public:
    explicit Mapped(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st{};
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            static_cast<size_t>(st.st_size) <= trust_store::kMaxStoreFileBytes) {
            void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                m_data = p;
                m_size = static_cast<size_t>(st.st_size);
            }
        }
        ::close(fd);
    }
    ~Mapped() {
        if (m_data) munmap(m_data, m_size);
    }
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;
    std::string_view view() const { return {static_cast<const char*>(m_data), m_size}; }

private:
    void* m_data = nullptr;
    size_t m_size = 0;
};

std::optional<fs::path> current_install(const std::string& store) {
    std::error_code ec;
    fs::path dir = fs::canonical(fs::path(store) / "current", ec);
    if (ec) return std::nullopt;
    return dir;
}

}  // namespace

Result<Compiled> compile(const trust_store::SnapshotFiles& s, double now) {
    if (auto e = trust_store::check_signature(s, now)) return *e;
    Compiled out;
    auto validity = cert_validity(s.certificate);
    if (!validity) return make_error(ErrorCode::SNAPSHOT_SIGNATURE_INVALID, "the snapshot certificate cannot be read");
    out.cert_not_before = validity->first;
    out.cert_not_after = validity->second;
    auto snap = trust::parse_vci_snapshot(s.json, "VCI snapshot " + s.meta.snapshot_time);
    if (!snap) return snap.error();
    out.snapshot = std::move(snap.value());
    out.warnings = out.snapshot.warnings;
    for (const auto& c : s.crls) {
        auto crl = trust::parse_crl(c.json, "CRL of " + c.iss);
        if (!crl) {
            out.warnings.push_back(crl.error());
            out.invalid_crls.push_back({c.iss, trust::crl_kid(c.json), crl.error()});
            continue;
        }
        out.crls.emplace_back(c.iss, std::move(crl.value()));
    }
    return out;
}

std::optional<Compiled> open(const std::string& store, const trust_store::SnapshotFiles& files, double now) {
    auto dir = current_install(store);
    auto key = read_key(store);
    if (!dir || !key) return std::nullopt;
    Mapped file((*dir / kIndexFile).string());
    std::string_view all = file.view();
    if (all.size() < kMagic.size() + kMacBytes || all.substr(0, kMagic.size()) != kMagic) return std::nullopt;
    std::string_view body = all.substr(kMagic.size(), all.size() - kMagic.size() - kMacBytes);
    std::string expected = mac(*key, body);
    if (CRYPTO_memcmp(expected.data(), all.data() + all.size() - kMacBytes, kMacBytes) != 0) return std::nullopt;
    Reader r(body);
    std::string installed = files_digest(files);
    if (installed.empty() || r.str() != installed || r.str() != vci::sources().front().certificate_sha256 || !r.ok())
        return std::nullopt;
    auto compiled = deserialise(r);
    // The certificate's validity is the one time-dependent part of the full check.
    double t = static_cast<double>(static_cast<time_t>(now));
    if (!compiled || t < compiled->cert_not_before || t > compiled->cert_not_after) return std::nullopt;
    return compiled;
}

std::optional<Error> write(const std::string& store, double now) {
    auto current = trust_store::read_current(store);
    if (!current) return current.error();
    if (!current.value()) return std::nullopt;
    const auto& files = *current.value();
    auto compiled = compile(files, now);
    if (!compiled) return compiled.error();
    auto key = read_or_create_key(store);
    if (!key) return key.error();
    auto dir = current_install(store);
    if (!dir) return make_error(ErrorCode::IO_ERROR, "no snapshot is installed in " + store);
    std::string installed = files_digest(files);
    if (installed.empty()) return make_error(ErrorCode::INTERNAL, "OpenSSL could not hash the installed snapshot");
    std::string body = serialise(compiled.value(), installed);
    std::string out = std::string(kMagic) + body + mac(key.value(), body);
    return fsutil::write_file_atomic((*dir / kIndexFile).string(), out);
}

}  // namespace shcx::trust_index
