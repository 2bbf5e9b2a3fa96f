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
#include "shcx/trust/index_codec.h"
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
        ok = ok && EVP_DigestUpdate(md.get(), &n, sizeof n) == 1 &&
             EVP_DigestUpdate(md.get(), part.data(), part.size()) == 1;
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
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &nb) != 1 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &na) != 1)
        return std::nullopt;
    return std::pair<double, double>{static_cast<double>(timegm(&nb)), static_cast<double>(timegm(&na))};
}

// ---- the key and the MAC -------------------------------------------------------------

std::string key_path(const std::string& store) { return (fs::path(store) / kKeyFile).string(); }

// The store's index key, when it is a regular file of the right size that only its owner
// (this user) can read or write.
std::optional<SecretString> read_key(const std::string& store) {
    int fd = ::open(key_path(store).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    std::string key(kKeyBytes, '\0');
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 && st.st_uid == geteuid() &&
              st.st_size == static_cast<off_t>(kKeyBytes) &&
              ::read(fd, key.data(), kKeyBytes) == static_cast<ssize_t>(kKeyBytes);
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
    HMAC(EVP_sha256(), key.str().data(), static_cast<int>(key.str().size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
}

// A read-only mapping of a whole file, unmapped when destroyed.
class Mapped {
public:
    explicit Mapped(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
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
    std::string installed = files_digest(files);
    if (installed.empty()) return std::nullopt;
    auto compiled = deserialise(body, installed, vci::sources().front().certificate_sha256);
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
