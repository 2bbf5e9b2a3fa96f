#include "shcx/trust_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/jose.h"
#include "shcx/vci.h"

namespace shcx::trust_store {
namespace {

namespace fs = std::filesystem;
using detail::Json;

constexpr const char* kSnapshotFile = "vci_snapshot.json";
constexpr const char* kSignatureFile = "vci_snapshot.sig";
constexpr const char* kCertificateFile = "vci_snapshot.crt";
constexpr const char* kMetaFile = "meta.json";
constexpr const char* kLocalIssuers = "local_issuers.json";
constexpr size_t kMaxStoreFile = 64u << 20;

Error io_error(const std::string& msg) { return make_error(ErrorCode::IO_ERROR, msg); }

std::optional<std::string> slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return std::nullopt;
    std::ostringstream ss;
    ss << f.rdbuf();
    if (ss.str().size() > kMaxStoreFile) return std::nullopt;
    return ss.str();
}

Meta meta_from_json(const std::string& text) {
    Meta m;
    auto j = detail::parse_json(text);
    if (!j) return m;
    m.source = detail::string_member(*j, "source").value_or("");
    m.snapshot_url = detail::string_member(*j, "snapshot_url").value_or("");
    m.snapshot_time = detail::string_member(*j, "snapshot_time").value_or("");
    m.etag = detail::string_member(*j, "etag").value_or("");
    m.last_modified = detail::string_member(*j, "last_modified").value_or("");
    m.sha256 = detail::string_member(*j, "sha256").value_or("");
    if (const auto* v = detail::member(*j, "fetched_at"); v && v->is_number()) m.fetched_at = v->get<double>();
    if (const auto* v = detail::member(*j, "checked_at"); v && v->is_number()) m.checked_at = v->get<double>();
    if (const auto* v = detail::member(*j, "issuer_count"); v && v->is_number_unsigned()) m.issuer_count = v->get<size_t>();
    return m;
}

std::optional<fs::path> current_dir(const std::string& store) {
    std::error_code ec;
    fs::path link = fs::path(store) / "current";
    if (!fs::is_symlink(link, ec)) return std::nullopt;
    fs::path target = fs::read_symlink(link, ec);
    if (ec) return std::nullopt;
    return target.is_absolute() ? target : fs::path(store) / target;
}

// Replaces `name` with a symlink to `target` atomically (symlink a temp name, rename).
std::optional<Error> point(const std::string& store, const std::string& name, const std::string& target) {
    fs::path tmp = fs::path(store) / ("." + name + ".tmp" + std::to_string(getpid()));
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_symlink(target, tmp, ec);
    if (ec) return io_error("cannot create symlink in " + store + ": " + ec.message());
    fs::rename(tmp, fs::path(store) / name, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return io_error("cannot switch " + name + " in " + store + ": " + ec.message());
    }
    return std::nullopt;
}

Json local_doc(const std::string& store) {
    auto text = slurp(fs::path(store) / kLocalIssuers);
    if (text)
        if (auto j = detail::parse_json(*text); j && j->is_object()) return *j;
    return Json{{"issuerInfo", Json::array()}};
}

}  // namespace

std::string default_dir() {
    if (const char* v = std::getenv("SHCX_TRUST"); v && *v) return v;
    if (const char* v = std::getenv("XDG_DATA_HOME"); v && *v) return (fs::path(v) / "shcx/trust").string();
    if (const char* v = std::getenv("HOME"); v && *v) return (fs::path(v) / ".local/share/shcx/trust").string();
    return ".shcx-trust";
}

std::string meta_to_json(const Meta& m) {
    Json j;
    j["source"] = m.source;
    j["snapshot_url"] = m.snapshot_url;
    j["snapshot_time"] = m.snapshot_time;
    j["fetched_at"] = m.fetched_at;
    j["checked_at"] = m.checked_at;
    j["etag"] = m.etag;
    j["last_modified"] = m.last_modified;
    j["sha256"] = m.sha256;
    j["issuer_count"] = m.issuer_count;
    return j.dump(2) + "\n";
}

Result<std::optional<Snapshot>> read_current(const std::string& store) {
    auto dir = current_dir(store);
    if (!dir) return std::optional<Snapshot>{};
    Snapshot s;
    auto json = slurp(*dir / kSnapshotFile), sig = slurp(*dir / kSignatureFile), crt = slurp(*dir / kCertificateFile),
         meta = slurp(*dir / kMetaFile);
    if (!json || !sig || !crt || !meta) return io_error("the installed snapshot in " + dir->string() + " is incomplete");
    s.json = std::move(*json);
    s.signature = std::move(*sig);
    s.certificate = std::move(*crt);
    s.meta = meta_from_json(*meta);
    if (auto index = slurp(*dir / "crls/index.json")) {
        if (auto j = detail::parse_json(*index); j && j->is_array())
            for (const auto& e : *j) {
                auto file = detail::string_member(e, "file").value_or("");
                if (file.find('/') != std::string::npos) continue;
                if (auto body = slurp(*dir / "crls" / file))
                    s.crls.push_back({detail::string_member(e, "iss").value_or(""), std::move(*body)});
            }
    }
    return std::optional<Snapshot>(std::move(s));
}

std::optional<Error> install(const std::string& store, const Snapshot& snap) {
    std::error_code ec;
    fs::path snapshots = fs::path(store) / "snapshots";
    fs::create_directories(snapshots, ec);
    if (ec) return io_error("cannot create " + snapshots.string() + ": " + ec.message());
    std::random_device rd;
    std::string id = std::to_string(static_cast<long long>(snap.meta.fetched_at)) + "-" + snap.meta.sha256.substr(0, 12) +
                     "-" + std::to_string(rd() % 100000);
    fs::path staging = snapshots / (".staging-" + id);
    fs::create_directories(staging / "crls", ec);
    if (ec) return io_error("cannot create " + staging.string() + ": " + ec.message());
    auto cleanup = [&] { fs::remove_all(staging, ec); };
    Json index = Json::array();
    for (size_t i = 0; i < snap.crls.size(); ++i) {
        std::string file = std::to_string(i) + ".json";
        if (auto e = fsutil::write_file_atomic((staging / "crls" / file).string(), snap.crls[i].json)) {
            cleanup();
            return e;
        }
        index.push_back({{"iss", snap.crls[i].iss}, {"file", file}});
    }
    for (const auto& [name, content] : std::vector<std::pair<const char*, std::string>>{
             {"crls/index.json", index.dump(2) + "\n"},
             {kSnapshotFile, snap.json},
             {kSignatureFile, snap.signature},
             {kCertificateFile, snap.certificate},
             {kMetaFile, meta_to_json(snap.meta)}}) {
        if (auto e = fsutil::write_file_atomic((staging / name).string(), content)) {
            cleanup();
            return e;
        }
    }
    fs::path final_dir = snapshots / id;
    fs::rename(staging, final_dir, ec);
    if (ec) {
        cleanup();
        return io_error("cannot move the new snapshot into place: " + ec.message());
    }
    auto old = current_dir(store);
    if (auto e = point(store, "current", "snapshots/" + id)) return e;
    if (old) point(store, "previous", "snapshots/" + old->filename().string());
    // Keep current and previous; older installs go.
    std::string keep_prev = old ? old->filename().string() : "";
    for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
        std::string name = entry.path().filename().string();
        if (name != id && name != keep_prev && name.rfind(".staging-", 0) != 0) fs::remove_all(entry.path(), ec);
    }
    return std::nullopt;
}

std::optional<Error> update_meta(const std::string& store, const Meta& meta) {
    auto dir = current_dir(store);
    if (!dir) return io_error("no snapshot is installed in " + store);
    return fsutil::write_file_atomic((*dir / kMetaFile).string(), meta_to_json(meta));
}

Result<Loaded> load(const std::string& store, double now) {
    Loaded out;
    auto current = read_current(store);
    if (!current) return current.error();
    if (current.value()) {
        const Snapshot& s = *current.value();
        const auto& pin = vci::sources().front().certificate_sha256;
        if (auto e = vci::verify_snapshot(s.json, s.signature, s.certificate, pin, now))
            return Error{e->code, "the installed trust snapshot in " + store + " fails its signature check (" + e->message +
                                      "); run `shcx trust sync --force`"};
        auto snap = trust::parse_vci_snapshot(s.json, "VCI snapshot " + s.meta.snapshot_time);
        if (!snap) return snap.error();
        out.warnings = snap.value().warnings;
        out.trust.add_snapshot(std::move(snap.value()));
        for (const auto& c : s.crls) {
            auto crl = trust::parse_crl(c.json, "CRL of " + c.iss);
            if (!crl) {
                out.warnings.push_back(crl.error());
                out.trust.add_invalid_crl({c.iss, trust::crl_kid(c.json), crl.error()});
                continue;
            }
            out.trust.add_crl(c.iss, std::move(crl.value()));
        }
        out.meta = s.meta;
    }
    auto local = read_local_issuers(store);
    if (!local) return local.error();
    out.local_issuers = local.value().size();
    for (auto& issuer : local.value()) out.trust.add_issuer(std::move(issuer));
    return out;
}

Result<std::vector<trust::Issuer>> read_local_issuers(const std::string& store) {
    auto path = fs::path(store) / kLocalIssuers;
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::vector<trust::Issuer>{};
    auto text = slurp(path);
    if (!text) return io_error("cannot read " + path.string());
    auto doc = detail::parse_json(*text);
    if (doc && detail::member(*doc, "issuerInfo") && detail::member(*doc, "issuerInfo")->empty())
        return std::vector<trust::Issuer>{};
    auto snap = trust::parse_vci_snapshot(*text, "local issuers");
    if (!snap) return snap.error();
    for (auto& i : snap.value().issuers) i.source = "local";
    return std::move(snap.value().issuers);
}

std::optional<Error> add_local_issuer(const std::string& store, const std::string& iss, const std::string& name,
                                      const std::string& jwks_json) {
    auto keys = jose::parse_jwks(jwks_json);
    if (!keys) return keys.error();
    if (keys.value().empty()) return make_error(ErrorCode::KEY_INVALID, "the JWKS holds no keys");
    for (const auto& k : keys.value()) {
        auto problems = jose::check_issuer_key(k);
        if (!problems.empty()) return problems.front();
    }
    auto parsed = detail::parse_json(jwks_json);
    Json doc = local_doc(store);
    Json kept = Json::array();
    for (const auto& e : doc["issuerInfo"]) {
        const Json* i = detail::member(e, "issuer");
        if (!i || detail::string_member(*i, "iss") != iss) kept.push_back(e);
    }
    Json issuer = {{"iss", iss}};
    if (!name.empty()) issuer["name"] = name;
    kept.push_back({{"issuer", issuer}, {"keys", (*parsed)["keys"]}});
    doc["issuerInfo"] = kept;
    std::error_code ec;
    fs::create_directories(store, ec);
    return fsutil::write_file_atomic((fs::path(store) / kLocalIssuers).string(), doc.dump(2) + "\n");
}

Result<bool> remove_local_issuer(const std::string& store, const std::string& iss) {
    Json doc = local_doc(store);
    Json kept = Json::array();
    bool removed = false;
    for (const auto& e : doc["issuerInfo"]) {
        const Json* i = detail::member(e, "issuer");
        if (i && detail::string_member(*i, "iss") == iss) removed = true;
        else kept.push_back(e);
    }
    if (!removed) return false;
    doc["issuerInfo"] = kept;
    if (auto e = fsutil::write_file_atomic((fs::path(store) / kLocalIssuers).string(), doc.dump(2) + "\n")) return *e;
    return true;
}

Result<Lock> Lock::try_acquire(const std::string& store) {
    std::error_code ec;
    fs::create_directories(store, ec);
    if (ec) return io_error("cannot create the trust store " + store + ": " + ec.message());
    std::string path = (fs::path(store) / "sync.lock").string();
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot open " + path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return io_error("another `shcx trust sync` is running on " + store + " (lock " + path + " is held)");
    }
    return Lock(fd);
}

Lock::~Lock() {
    if (m_fd >= 0) close(m_fd);  // closing releases the flock
}

}  // namespace shcx::trust_store
