// The compiled index of an installed trust snapshot (docs/verification.md F): what the
// full check of the install yields (issuers, keys, CRLs, warnings), written next to the
// snapshot at `trust sync` and memory-mapped by every later run, so a run does not parse
// the whole directory and check its P-521 signature again, nor build all its issuers:
// an issuer is decoded when a card names it.
//
// The index is used only when all of these hold, else the run does the full check:
//  - the HMAC-SHA256 of its header verifies under the store's index key
//    (<store>/index.key: 32 random bytes, mode 0600, owned by the user; a key that others
//    can read is not used), and each issuer's record has the SHA-256 the header names;
//  - it was compiled from exactly the installed files: it records their identity (device,
//    inode, size, mtime and ctime of the snapshot, its signature, its certificate, the
//    crls/ directory and every file in it), taken at a time when each file's ctime was
//    already in the past, and a run stats them again and compares. A file replaced or
//    written since has another inode or ctime. When the identities could not be taken so
//    (a file changed within the clock's granularity of the sync), the index records the
//    SHA-256 of the files' content instead and a run hashes them again;
//  - it was made for the certificate pin this shcx trusts, and the certificate it
//    recorded is valid at the verification time;
//  - its format version is this one.
#pragma once

#include <memory>
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

// What a run takes from the index: the issuers, decoded one at a time (thread-safe), and
// the rest of the compiled trust, in the order a verifier adds it (the snapshot's CRLs,
// then the CRL files').
struct Opened {
    trust_store::Meta meta;  // the install's meta.json
    std::shared_ptr<const trust::IssuerSource> issuers;
    std::string snapshot_time;
    std::vector<std::pair<std::string, trust::Crl>> snapshot_crls, crls;
    std::vector<trust::InvalidCrl> snapshot_invalid_crls, invalid_crls;
    std::vector<Error> warnings;  // CRL_INVALID, in load order
    double cert_not_before = 0, cert_not_after = 0;
};

// The index of the current install, when it is there and passes every condition above;
// nullopt otherwise (absent, stale, tampered, another key or format, an unreadable
// meta.json: never an error; the full check then says what is wrong). An issuer record
// that fails its SHA-256 when it is first needed (the index written over in place while
// the run has it open) makes the source fall back to the full check of the install for
// every issuer it has not handed out yet; when that fails too, it has no issuers.
std::optional<Opened> open(const std::string& store, double now);

// Compiles the current install (full check) and writes its index beside it, creating
// the store's index key on first use. Nothing to do without an install. IO_ERROR, or the
// full check's error (then no index is written).
std::optional<Error> write(const std::string& store, double now);

// The index file's name inside an install directory, and the key's inside the store.
inline constexpr const char* kIndexFile = "index.shcx";
inline constexpr const char* kKeyFile = "index.key";

}  // namespace shcx::trust_index
