// The compiled index of an installed trust snapshot (docs/verification.md F): what the
// full check of the install yields (issuers, keys, CRLs, warnings), written next to the
// snapshot at `trust sync` and memory-mapped by every later run, so a run does not parse
// the whole directory and check its P-521 signature again.
//
// The index is used only when all of these hold, else the run does the full check:
//  - its HMAC-SHA256 verifies under the store's index key (<store>/index.key: 32 random
//    bytes, mode 0600, owned by the user; a key that others can read is not used);
//  - it was compiled from exactly the installed bytes: it records the SHA-256 of the
//    snapshot, its signature, its certificate and every CRL file, and these are hashed
//    again on every load;
//  - it was made for the certificate pin this shcx trusts, and the certificate it
//    recorded is valid at the verification time;
//  - its format version is this one.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shcx/error.h"
#include "shcx/trust/store.h"
#include "shcx/trust/trust.h"

namespace shcx::trust_index {

// The trust an installed snapshot yields once checked, in the order a verifier adds it.
struct Compiled {
    trust::Snapshot snapshot;                              // issuers and the snapshot's own CRLs
    std::vector<std::pair<std::string, trust::Crl>> crls;  // the CRL files fetched with it (iss, crl)
    std::vector<trust::InvalidCrl> invalid_crls;           // CRL files that did not parse
    std::vector<Error> warnings;                           // CRL_INVALID, in load order
    double cert_not_before = 0, cert_not_after = 0;        // the snapshot certificate's validity
};

// The full check: the snapshot's signature against the pinned certificate as of `now`
// (SNAPSHOT_SIGNATURE_INVALID), then every file parsed (SNAPSHOT_INVALID).
Result<Compiled> compile(const trust_store::SnapshotFiles& files, double now);

// The index of the current install, when it is there and passes every condition above;
// nullopt otherwise (absent, stale, tampered, another key or format: never an error).
std::optional<Compiled> open(const std::string& store, const trust_store::SnapshotFiles& files, double now);

// Compiles the current install (full check) and writes its index beside it, creating
// the store's index key on first use. Nothing to do without an install. IO_ERROR, or the
// full check's error (then no index is written).
std::optional<Error> write(const std::string& store, double now);

// The index file's name inside an install directory, and the key's inside the store.
inline constexpr const char* kIndexFile = "index.shcx";
inline constexpr const char* kKeyFile = "index.key";

}  // namespace shcx::trust_index
