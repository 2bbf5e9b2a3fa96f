#include "shcx/trust/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/trust/vci.h"

namespace shcx::trust_store {
namespace {

namespace fs = std::filesystem;
using detail::Json;

constexpr const char* kSnapshotFile = "vci_snapshot.json";
constexpr const char* kSignatureFile = "vci_snapshot.sig";
constexpr const char* kCertificateFile = "vci_snapshot.crt";
constexpr const char* kMetaFile = "meta.json";

Error io_error(const std::string& msg) { return make_error(ErrorCode::IO_ERROR, msg); }

std::optional<std::string> slurp(const fs::path& p) {
    auto data = fsutil::read_file(p.string(), kMaxStoreFileBytes);
    if (!data) return std::nullopt;
    return std::move(data.value());
}

std::optional<Meta> meta_from_json(const std::string& text) {
    Meta m;
    auto j = detail::parse_json(text);
    if (!j || !j->is_object()) return std::nullopt;
    m.source = detail::string_member(*j, "source").value_or("");
    m.snapshot_url = detail::string_member(*j, "snapshot_url").value_or("");
    m.snapshot_time = detail::string_member(*j, "snapshot_time").value_or("");
    m.etag = detail::string_member(*j, "etag").value_or("");
    m.last_modified = detail::string_member(*j, "last_modified").value_or("");
    m.sha256 = detail::string_member(*j, "sha256").value_or("");
    if (const auto* v = detail::member(*j, "fetched_at"); v && v->is_number()) m.fetched_at = v->get<double>();
    if (const auto* v = detail::member(*j, "checked_at"); v && v->is_number()) m.checked_at = v->get<double>();
    if (const auto* v = detail::member(*j, "issuer_count"); v && v->is_number_unsigned())
        m.issuer_count = v->get<size_t>();
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

}  // namespace

std::string user_dir(const Location& where) {
    if (fs::path(where.xdg_data_home).is_absolute()) return (fs::path(where.xdg_data_home) / "shcx/trust").string();
    if (fs::path(where.home).is_absolute()) return (fs::path(where.home) / ".local/share/shcx/trust").string();
    return "";
}

void make_world_readable(const std::string& path) {
    using P = fs::perms;
    std::error_code ec;
    bool dir = fs::is_directory(fs::symlink_status(path, ec));
    auto perms = P::owner_read | P::owner_write | P::group_read | P::others_read;
    if (dir) perms |= P::owner_exec | P::group_exec | P::others_exec;
    fs::permissions(path, perms, ec);
}

bool holds_trust(const std::string& store) {
    std::error_code ec;
    return fs::is_symlink(fs::path(store) / "current", ec) || fs::exists(fs::path(store) / "local_issuers.json", ec);
}

std::string resolve_dir(const Location& where, Access access) {
    if (!where.dir.empty()) return where.dir;
    if (where.admin) return where.system_dir;
    std::string user = user_dir(where);
    if (user.empty()) return where.system_dir;
    if (access == Access::Write || holds_trust(user) || !holds_trust(where.system_dir)) return user;
    return where.system_dir;
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

Result<std::optional<SnapshotFiles>> read_current(const std::string& store) {
    auto dir = current_dir(store);
    if (!dir) return std::optional<SnapshotFiles>{};
    SnapshotFiles s;
    auto json = slurp(*dir / kSnapshotFile), sig = slurp(*dir / kSignatureFile), crt = slurp(*dir / kCertificateFile),
         meta = slurp(*dir / kMetaFile);
    auto damaged = [&](const std::string& what) {
        return make_error(ErrorCode::TRUST_STORE_DAMAGED, "the installed snapshot in " + dir->string() + " " + what);
    };
    if (!json || !sig || !crt || !meta) return damaged("is incomplete");
    auto parsed_meta = meta_from_json(*meta);
    if (!parsed_meta) return damaged("has an unreadable meta.json");
    s.json = std::move(*json);
    s.signature = std::move(*sig);
    s.certificate = std::move(*crt);
    s.meta = std::move(*parsed_meta);
    if (auto index = slurp(*dir / "crls/index.json")) {
        if (auto j = detail::parse_json(*index); j && j->is_array())
            for (const auto& e : *j) {
                auto file = detail::string_member(e, "file").value_or("");
                if (file.find('/') != std::string::npos) continue;
                if (auto body = slurp(*dir / "crls" / file))
                    s.crls.push_back({detail::string_member(e, "iss").value_or(""), std::move(*body)});
            }
    }
    return std::optional<SnapshotFiles>(std::move(s));
}

std::optional<Meta> read_install_meta(const std::string& install_dir) {
    auto text = slurp(fs::path(install_dir) / kMetaFile);
    if (!text) return std::nullopt;
    return meta_from_json(*text);
}

std::optional<Error> install(const std::string& store, const SnapshotFiles& snap) {
    std::error_code ec;
    fs::path snapshots = fs::path(store) / "snapshots";
    bool created = fs::create_directories(snapshots, ec);
    if (ec) return io_error("cannot create " + snapshots.string() + ": " + ec.message());
    if (created) make_world_readable(snapshots.string());
    std::random_device rd;
    std::string id = std::to_string(static_cast<long long>(snap.meta.fetched_at)) + "-" +
                     snap.meta.sha256.substr(0, 12) + "-" + std::to_string(rd() % 100000);
    fs::path staging = snapshots / (".staging-" + id);
    fs::create_directories(staging / "crls", ec);
    if (ec) return io_error("cannot create " + staging.string() + ": " + ec.message());
    auto cleanup = [&] { fs::remove_all(staging, ec); };
    make_world_readable(staging.string());
    make_world_readable((staging / "crls").string());
    Json index = Json::array();
    for (size_t i = 0; i < snap.crls.size(); ++i) {
        std::string file = std::to_string(i) + ".json";
        if (auto e = fsutil::write_file_atomic((staging / "crls" / file).string(), snap.crls[i].json)) {
            cleanup();
            return e;
        }
        make_world_readable((staging / "crls" / file).string());
        index.push_back({{"iss", snap.crls[i].iss}, {"file", file}});
    }
    for (const auto& [name, content] :
         std::vector<std::pair<const char*, std::string>>{{"crls/index.json", index.dump(2) + "\n"},
                                                          {kSnapshotFile, snap.json},
                                                          {kSignatureFile, snap.signature},
                                                          {kCertificateFile, snap.certificate},
                                                          {kMetaFile, meta_to_json(snap.meta)}}) {
        if (auto e = fsutil::write_file_atomic((staging / name).string(), content)) {
            cleanup();
            return e;
        }
        make_world_readable((staging / name).string());
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

std::optional<Error> check_signature(const SnapshotFiles& files, double now) {
    return vci::verify_snapshot(files.json, files.signature, files.certificate,
                                vci::sources().front().certificate_sha256, now);
}

std::optional<Error> update_meta(const std::string& store, const Meta& meta) {
    auto dir = current_dir(store);
    if (!dir) return io_error("no snapshot is installed in " + store);
    if (auto e = fsutil::write_file_atomic((*dir / kMetaFile).string(), meta_to_json(meta))) return e;
    make_world_readable((*dir / kMetaFile).string());
    return std::nullopt;
}

Result<Lock> Lock::try_acquire(const std::string& store) {
    std::error_code ec;
    bool created = fs::create_directories(store, ec);
    if (ec) return io_error("cannot create the trust store " + store + ": " + ec.message());
    if (created) make_world_readable(store);
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
