// Everything a verifier trusts, put together: the installed store (its current snapshot,
// checked against its signature on every load, the snapshot's CRLs and the local
// issuers), or a one-off snapshot file instead; plus extra JWKS and CRL files. Also what
// `trust status` reports about a store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/trust/store.h"
#include "shcx/trust/trust.h"

namespace shcx::trust_store {

struct Loaded {
    trust::TrustStore trust;
    std::optional<Meta> meta;  // absent when no snapshot is installed (or a file replaced the store)
    size_t local_issuers = 0;
    std::vector<Error> warnings;  // CRL_INVALID lists that were skipped
};

// The installed store. SNAPSHOT_SIGNATURE_INVALID when the installed snapshot no longer
// matches its signature (run `shcx trust sync --force`).
Result<Loaded> load(const std::string& store, double now);

// Why an installed snapshot cannot be used as it is: SNAPSHOT_SIGNATURE_INVALID (edited or
// truncated on disk, or its certificate expired), SNAPSHOT_INVALID; nullopt when it checks out.
std::optional<Error> check_installed(const SnapshotFiles& files, double now);

// `verify --max-trust-age` by default (docs/deploy.md "Staleness").
inline constexpr double kDefaultMaxTrustAgeSeconds = 90 * 86400.0;
// TRUST_SNAPSHOT_STALE when the snapshot's own time (its fetch time when that is
// unreadable) is more than `max_age_seconds` before `now`.
std::optional<Error> check_age(const Meta& meta, double now, double max_age_seconds);

// Size limits on the files a verify run is given.
inline constexpr size_t kMaxSnapshotFileBytes = 64u << 20;
inline constexpr size_t kMaxJwksFileBytes = 4u << 20;
inline constexpr size_t kMaxCrlFileBytes = 8u << 20;

// What one verify run trusts.
struct Sources {
    std::string snapshot_file;  // set: trust only this VCI-format file, not the store
    std::string store;          // else the installed store in this directory
    struct Jwks {
        std::string iss;  // empty: the keys are trusted under any iss
        std::string file;
    };
    std::vector<Jwks> jwks;              // keys trusted besides
    std::vector<std::string> crl_files;  // revocation lists for their kid, under any iss
};
// INPUT_* for an unreadable or oversized file (the message names it), and the parse
// errors of each kind of file (SNAPSHOT_INVALID, KEY_INVALID, CRL_INVALID).
Result<Loaded> assemble(const Sources& sources, double now);

// `trust status`: what is installed and whether it still checks out. TRUST_STORE_DAMAGED
// when the current install has a file missing or an unreadable meta.json.
struct Status {
    std::optional<SnapshotFiles> snapshot;   // the current install, if any
    std::optional<Error> signature_problem;  // when the snapshot fails check_installed
    size_t local_issuers = 0;
    // A snapshot whose signature verifies, or (with no snapshot) some local issuers.
    bool usable() const;
};
Result<Status> inspect(const std::string& store, double now);

}  // namespace shcx::trust_store
