// The installed trust store on disk:
//   <store>/snapshots/<id>/   vci_snapshot.json, .sig, .crt, meta.json, crls/ (one install)
//   <store>/current, previous symlinks to the installed and the one before
//   <store>/local_issuers.json  issuers added with `shcx trust add` (snapshot format)
//   <store>/sync.lock           held by a running sync
// A new snapshot is written into a fresh directory and made current by renaming a
// symlink over `current`, so readers see the old set of files or the new one, never a mix.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"

namespace shcx::trust_store {

// The system-wide store: written by root (or the sync service), read by every user who
// has no store of their own (docs/deploy.md "Trust store locations").
inline constexpr const char* kSystemStoreDir = "/var/lib/shcx/trust";

// Where the store is, from what the caller knows (the CLI fills this from --store or
// $SHCX_TRUST, $XDG_DATA_HOME, $HOME and its user id: the library reads no environment).
struct Location {
    std::string dir;            // given explicitly: used as it is
    std::string xdg_data_home;  // else the user store <xdg_data_home>/shcx/trust (absolute only)
    std::string home;           // else the user store <home>/.local/share/shcx/trust (absolute only)
    std::string system_dir = kSystemStoreDir;
    bool admin = false;  // root: the system store is its own, for reading and writing
};
enum class Access { Read, Write };
// The user store directory, or "" when neither xdg_data_home nor home is an absolute path.
std::string user_dir(const Location& where);
// In order: `dir`; for an admin, the system store; with no user store location, the
// system store; for writing, the user store; for reading, the user store if it holds
// trust (or neither does), else the system store.
std::string resolve_dir(const Location& where, Access access);
// Whether a snapshot install or local issuers are in `store` (even damaged ones: a damaged
// user store is reported, never silently passed over).
bool holds_trust(const std::string& store);

// The store holds public data that every user may read (the system store above all):
// `path` gets 0755 (a directory) or 0644 (a file) whatever the umask of the writer.
void make_world_readable(const std::string& path);

// Largest file read from the store (the real snapshot is 700 KB).
inline constexpr size_t kMaxStoreFileBytes = 64u << 20;

struct Meta {
    std::string source, snapshot_url, snapshot_time, etag, last_modified, sha256;
    double fetched_at = 0, checked_at = 0;
    size_t issuer_count = 0;
};

struct FetchedCrl {
    std::string iss, json;
};

// The files of one snapshot install, exactly as downloaded.
struct SnapshotFiles {
    Meta meta;
    std::string json, signature, certificate;
    std::vector<FetchedCrl> crls;
};

// The current installed snapshot, or nullopt when none is installed. TRUST_STORE_DAMAGED
// when `current` points at an install with a file missing or an unreadable meta.json.
Result<std::optional<SnapshotFiles>> read_current(const std::string& store);

// The meta.json of the install in `install_dir`, nullopt when it is missing or unreadable.
std::optional<Meta> read_install_meta(const std::string& install_dir);

// Writes `snap` as the new current snapshot; the old current becomes `previous` and
// older installs are removed. IO_ERROR leaves the current install untouched.
std::optional<Error> install(const std::string& store, const SnapshotFiles& snap);
// Rewrites the current install's meta.json (after an unchanged, 304 check).
std::optional<Error> update_meta(const std::string& store, const Meta& meta);

// An installed snapshot's signature against the pinned certificate of the default
// source, as of `now`: checked again on every use, so a store edited on disk is refused
// (SNAPSHOT_SIGNATURE_INVALID).
std::optional<Error> check_signature(const SnapshotFiles& files, double now);

// An exclusive lock on <store>/sync.lock, released when destroyed. IO_ERROR naming the
// holder's situation when another process holds it.
class Lock {
public:
    static Result<Lock> try_acquire(const std::string& store);
    Lock(Lock&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    Lock(const Lock&) = delete;
    ~Lock();

private:
    explicit Lock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

std::string meta_to_json(const Meta& meta);

}  // namespace shcx::trust_store
