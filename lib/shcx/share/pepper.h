// The pepper: 32 secret bytes in a file outside the database, keying every token hash,
// PIN verifier and share key. A database made with one pepper is garbage with another,
// so the database stores a fingerprint of its pepper and nothing opens it with a missing
// or different one (docs/share-protocol-hardening.md, "The pepper").
#pragma once

#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"
#include "shcx/share/store.h"

namespace shcx::share {

enum class PepperMode {
    Existing,     // the pepper file must exist (create --db, status, revoke, user list ...)
    CreateIfNew,  // creates one only for a database nothing depends on yet (serve, user add)
    Init,         // serve --init: creates a new pepper; refuses if the file exists. On a
                  // database with users or shares, they are cut loose (Store::reset_pepper).
};

struct Pepper {
    SecretString bytes;
    bool created = false;             // a new pepper file was written
    bool readable_by_others = false;  // group or other permission bits are set on the file
    bool replaced = false;            // Init cut a database in use loose from its lost pepper
    int shares_revoked = 0;           // ... and revoked this many live shares
};

// HMAC-SHA256(pepper, "shcx1|pepper-check"): identifies a pepper without revealing it.
std::string pepper_fingerprint(std::string_view pepper);

// Reads (or, as `mode` allows, creates: mode 0600, never over an existing file) the pepper
// file at `path` and checks it against the database's fingerprint, storing the
// fingerprint when the database has none.
// SHARE_PEPPER_MISSING: no file, and the database has a fingerprint, users or shares
//   (or mode is Existing). SHARE_PEPPER_MISMATCH: the file is not the database's pepper.
// USAGE: Init with an existing file. IO_ERROR: unreadable, not 32 bytes, cannot write.
Result<Pepper> open_pepper(const std::string& path, Store& store, PepperMode mode, double now);

}  // namespace shcx::share
