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

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

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
constexpr std::string_view kMagic = "shcx-trust-index-2\n";
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

// ---- the issuers of a mapped index -----------------------------------------------

class IndexIssuers : public trust::IssuerSource {
public:
    IndexIssuers(std::shared_ptr<const Mapped> file, std::string_view records, std::vector<IssuerEntry> entries,
                 std::string store, double now)
        : m_file(std::move(file)),
          m_records(records),
          m_entries(std::move(entries)),
          m_store(std::move(store)),
          m_now(now) {}

    size_t size() const override {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_full ? m_full->issuers().size() : m_entries.size();
    }
    bool contains(std::string_view iss) const override {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_full) return m_full->find(iss, {}).issuer != nullptr;
        }
        return entry(iss) != nullptr;
    }
    const trust::Issuer* find(std::string_view iss) const override {
        const IssuerEntry* e = entry(iss);
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_full && e) {
            size_t at = static_cast<size_t>(e - m_entries.data());
            if (auto it = m_decoded.find(at); it != m_decoded.end()) return it->second.get();
            if (auto issuer = decode(*e))
                return (m_decoded[at] = std::make_unique<trust::Issuer>(std::move(*issuer))).get();
            full_check();
        }
        return m_full ? m_full->find(iss, {}).issuer : nullptr;
    }
    std::vector<trust::Issuer> all() const override {
        std::vector<const IssuerEntry*> order(m_entries.size());
        for (const auto& e : m_entries) order[e.position] = &e;
        std::vector<trust::Issuer> out;
        out.reserve(order.size());
        for (const IssuerEntry* e : order) {
            const trust::Issuer* issuer = find(e->iss);
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_full) break;
            if (issuer) out.push_back(*issuer);
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_full) return m_full->issuers();
        return out;
    }

private:
    const IssuerEntry* entry(std::string_view iss) const {
        auto it = std::lower_bound(m_entries.begin(), m_entries.end(), iss,
                                   [](const IssuerEntry& e, std::string_view key) { return e.iss < key; });
        return it != m_entries.end() && it->iss == iss ? &*it : nullptr;
    }
    // The record, copied first so that what is hashed is what is decoded.
    std::optional<trust::Issuer> decode(const IssuerEntry& e) const {
        std::string bytes(m_records.substr(static_cast<size_t>(e.offset), static_cast<size_t>(e.length)));
        if (digest::sha256(bytes) != e.sha256) return std::nullopt;
        auto issuer = trust_index::deserialise_issuer(bytes);
        if (!issuer || issuer->iss != e.iss) return std::nullopt;
        return issuer;
    }
    // The index no longer matches its header: the install's full check answers instead.
    void full_check() const {
        m_full = std::make_unique<trust::TrustStore>();
        auto current = trust_store::read_current(m_store);
        if (!current || !current.value()) return;
        auto compiled = compile(*current.value(), m_now);
        if (compiled) m_full->add_snapshot(std::move(compiled.value().snapshot));
    }

    std::shared_ptr<const Mapped> m_file;
    std::string_view m_records;
    std::vector<IssuerEntry> m_entries;  // views into m_file, sorted by iss
    std::string m_store;
    double m_now;
    mutable std::mutex m_mutex;
    mutable std::map<size_t, std::unique_ptr<trust::Issuer>> m_decoded;
    mutable std::unique_ptr<trust::TrustStore> m_full;
};

constexpr size_t kPrefixBytes = kMagic.size() + sizeof(uint64_t);

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

std::optional<Opened> open(const std::string& store, double now) {
    auto dir = current_install(store);
    auto key = read_key(store);
    if (!dir || !key) return std::nullopt;
    auto file = std::make_shared<const Mapped>((*dir / kIndexFile).string());
    std::string_view all = file->view();
    if (all.size() < kPrefixBytes + kMacBytes || all.substr(0, kMagic.size()) != kMagic) return std::nullopt;
    uint64_t header_bytes = 0;
    std::memcpy(&header_bytes, all.data() + kMagic.size(), sizeof header_bytes);
    if (header_bytes > all.size() - kPrefixBytes - kMacBytes) return std::nullopt;
    size_t signed_bytes = kPrefixBytes + static_cast<size_t>(header_bytes);
    std::string expected = mac(*key, all.substr(0, signed_bytes));
    if (CRYPTO_memcmp(expected.data(), all.data() + signed_bytes, kMacBytes) != 0) return std::nullopt;
    auto header = deserialise_header(all.substr(kPrefixBytes, static_cast<size_t>(header_bytes)));
    if (!header || header->certificate_pin != vci::sources().front().certificate_sha256) return std::nullopt;
    // The certificate's validity is the one time-dependent part of the full check.
    double t = static_cast<double>(static_cast<time_t>(now));
    if (t < header->cert_not_before || t > header->cert_not_after) return std::nullopt;
    std::string_view records = all.substr(signed_bytes + kMacBytes);
    for (const auto& e : header->issuers)
        if (e.offset > records.size() || e.length > records.size() - e.offset) return std::nullopt;
    if (header->by_content) {
        auto current = trust_store::read_current(store);
        if (!current || !current.value() || files_digest(*current.value()) != header->files_sha256) return std::nullopt;
    } else if (identities(*dir) != header->files) {
        return std::nullopt;
    }
    auto meta = trust_store::read_install_meta(dir->string());
    if (!meta) return std::nullopt;
    Opened out;
    out.meta = std::move(*meta);
    out.snapshot_time = std::move(header->snapshot_time);
    out.snapshot_crls = std::move(header->snapshot_crls);
    out.snapshot_invalid_crls = std::move(header->snapshot_invalid_crls);
    out.crls = std::move(header->crls);
    out.invalid_crls = std::move(header->invalid_crls);
    out.warnings = std::move(header->warnings);
    out.cert_not_before = header->cert_not_before;
    out.cert_not_after = header->cert_not_after;
    out.issuers = std::make_shared<IndexIssuers>(file, records, std::move(header->issuers), store, now);
    return out;
}

std::optional<Error> write(const std::string& store, double now) {
    auto dir = current_install(store);
    if (!dir) {  // nothing installed (or a dangling `current`: reported as read_current does)
        auto current = trust_store::read_current(store);
        if (!current) return current.error();
        return std::nullopt;
    }
    // The identities are taken before the files are read: a file changed after that has
    // another identity, and the index is then not used.
    auto [ids, settled_ids] = bind_install(*dir);
    auto current = trust_store::read_current(store);
    if (!current) return current.error();
    if (!current.value()) return std::nullopt;
    const auto& files = *current.value();
    auto compiled = compile(files, now);
    if (!compiled) return compiled.error();
    auto key = read_or_create_key(store);
    if (!key) return key.error();
    std::string installed = files_digest(files);
    if (installed.empty()) return make_error(ErrorCode::INTERNAL, "OpenSSL could not hash the installed snapshot");

    Compiled& c = compiled.value();
    Header h;
    h.files_sha256 = installed;
    h.by_content = !settled_ids;
    h.files = std::move(ids);
    h.certificate_pin = vci::sources().front().certificate_sha256;
    h.cert_not_before = c.cert_not_before;
    h.cert_not_after = c.cert_not_after;
    h.snapshot_time = c.snapshot.time;
    h.snapshot_crls = c.snapshot.crls;
    h.snapshot_invalid_crls = c.snapshot.invalid_crls;
    h.snapshot_warnings = c.snapshot.warnings;
    h.crls = c.crls;
    h.invalid_crls = c.invalid_crls;
    h.warnings = c.warnings;
    // One record per distinct iss, merged exactly as a trust store merges a snapshot's.
    trust::TrustStore merged;
    for (auto& issuer : c.snapshot.issuers) merged.add_issuer(std::move(issuer));
    const auto& issuers = merged.issuers();
    std::string records;
    std::vector<std::string> hashes;
    hashes.reserve(issuers.size());
    for (size_t i = 0; i < issuers.size(); ++i) {
        std::string record = serialise_issuer(issuers[i]);
        hashes.push_back(digest::sha256(record));
        h.issuers.push_back({issuers[i].iss, i, records.size(), record.size(), hashes.back()});
        records += record;
    }
    std::sort(h.issuers.begin(), h.issuers.end(),
              [](const IssuerEntry& a, const IssuerEntry& b) { return a.iss < b.iss; });
    std::string header = serialise_header(h);
    uint64_t header_bytes = header.size();
    std::string out(kMagic);
    out.append(reinterpret_cast<const char*>(&header_bytes), sizeof header_bytes);
    out += header;
    out += mac(key.value(), out);
    out += records;
    return fsutil::write_file_atomic((*dir / kIndexFile).string(), out);
}

}  // namespace shcx::trust_index
