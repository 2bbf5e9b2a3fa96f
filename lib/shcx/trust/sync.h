// `shcx trust sync`: download the VCI snapshot, its signature and certificate; check the
// certificate pin and the signature over the exact bytes; check the structure; fetch
// CRLs the snapshot lacks; install atomically. Any failure leaves the installed store as
// it was. Conditional GET (ETag / Last-Modified) skips an unchanged snapshot, but only
// after the installed copy checks out again (trust_store::check_installed, every file
// present): a damaged install is downloaded again unconditionally.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/trust/store.h"
#include "shcx/trust/vci.h"

namespace shcx::trust_sync {

struct Options {
    std::string store;
    vci::Source source;
    bool force = false;      // ignore validators: always download and reinstall
    bool fetch_crls = true;  // fetch <iss>/.well-known/crl/<kid>.json for keys whose CRL is missing or stale
    double now = 0;
    size_t max_snapshot_bytes = 64u << 20;
    std::function<void(const std::string& what, uint64_t now, uint64_t total)> progress;
};

enum class Outcome { Installed, Unchanged };

struct Summary {
    Outcome outcome = Outcome::Installed;
    trust_store::Meta meta;
    size_t crls_fetched = 0;
    // TRUST_STORE_REPAIRED first when a damaged install was replaced (its message says
    // what was wrong); CRL_UNAVAILABLE / CRL_INVALID for CRLs that could not be used.
    std::vector<Error> warnings;
};

// NETWORK_ERROR (transport, HTTP status), INPUT_TOO_LARGE, SNAPSHOT_SIGNATURE_INVALID,
// SNAPSHOT_INVALID, IO_ERROR (including a concurrent sync holding the lock). When the
// install was damaged and the download fails, the message says the damage remains.
Result<Summary> sync(const Options& options);

}  // namespace shcx::trust_sync
