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
#include "shcx/trust/trust.h"

namespace shcx::trust_store {

// $SHCX_TRUST, else $XDG_DATA_HOME/shcx/trust, else ~/.local/share/shcx/trust.
std::string default_dir();

struct Meta {
    std::string source, snapshot_url, snapshot_time, etag, last_modified, sha256;
    double fetched_at = 0, checked_at = 0;
    size_t issuer_count = 0;
};

struct FetchedCrl {
    std::string iss, json;
};

struct Snapshot {
    Meta meta;
    std::string json, signature, certificate;
    std::vector<FetchedCrl> crls;
};

// The current installed snapshot, or nullopt when none is installed.
Result<std::optional<Snapshot>> read_current(const std::string& store);

// Writes `snap` as the new current snapshot; the old current becomes `previous` and
// older installs are removed. IO_ERROR leaves the current install untouched.
std::optional<Error> install(const std::string& store, const Snapshot& snap);
// Rewrites the current install's meta.json (after an unchanged, 304 check).
std::optional<Error> update_meta(const std::string& store, const Meta& meta);

// Everything a verifier trusts from the store: the current snapshot (its signature is
// checked again against the pin on every load: a store edited on disk is refused with
// SNAPSHOT_SIGNATURE_INVALID), its CRLs, and local issuers.
struct Loaded {
    trust::TrustStore trust;
    std::optional<Meta> meta;  // absent when no snapshot is installed
    size_t local_issuers = 0;
    std::vector<Error> warnings;
};
Result<Loaded> load(const std::string& store, double now);

// Local issuers (`trust add` / `trust remove`), kept in snapshot format.
Result<std::vector<trust::Issuer>> read_local_issuers(const std::string& store);
// Validates every key (KEY_INVALID / KEY_KID_MISMATCH) and replaces any entry for iss.
std::optional<Error> add_local_issuer(const std::string& store, const std::string& iss, const std::string& name,
                                      const std::string& jwks_json);
// false when iss was not there.
Result<bool> remove_local_issuer(const std::string& store, const std::string& iss);

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
