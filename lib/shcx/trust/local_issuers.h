// Local issuers: keys a venue trusts besides the VCI directory (`shcx trust add` /
// `trust remove`), kept in <store>/local_issuers.json in the VCI snapshot format.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/trust/trust.h"

namespace shcx::trust_store {

// Every local issuer (source "local"); none when the file does not exist.
Result<std::vector<trust::Issuer>> read_local_issuers(const std::string& store);
// Replaces any entry for iss. ISSUER_URL_INVALID unless iss is an https:// URL without a
// trailing slash; KEY_INVALID / KEY_KID_MISMATCH unless every key passes the issuer key
// rules; IO_ERROR when the file cannot be read or written. `allow_loopback_http` also
// accepts a loopback http:// iss (trust_fetch::is_loopback_http), for tests only.
std::optional<Error> add_local_issuer(const std::string& store, const std::string& iss, const std::string& name,
                                      const std::string& jwks_json, bool allow_loopback_http = false);
// false when iss was not there.
Result<bool> remove_local_issuer(const std::string& store, const std::string& iss);

}  // namespace shcx::trust_store
