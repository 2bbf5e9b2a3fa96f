// `shcx trust add --fetch`: an issuer's published keys, fetched from
// ISS/.well-known/jwks.json over https (the spec's location for them), size-capped, with
// each key's RFC 7638 thumbprint computed here so a person can compare it with what the
// issuer says out of band before trusting it.
#pragma once

#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/jose/jwk.h"

namespace shcx::trust_fetch {

// A JWKS is a few keys; a megabyte is far more than any issuer publishes.
inline constexpr size_t kMaxJwksBytes = 1u << 20;

struct Options {
    // Also accept http:// on a loopback address (127.0.0.1, localhost, [::1]) as ISS: for
    // tests against a local server only; never on by default.
    bool allow_loopback_http = false;
    long timeout_s = 30;
};

struct Key {
    jose::Jwk jwk;
    std::string thumbprint;       // RFC 7638, from crv/x/y as served
    std::vector<Error> problems;  // the issuer key rules (jose::check_issuer_key)
};

struct Fetched {
    std::string url;
    std::string jwks_json;  // the document exactly as served
    std::vector<Key> keys;
};

// http:// to a loopback host (url::is_loopback_host: 127.0.0.0/8, [::1], localhost), a
// base URL under url::check_public_url without a trailing slash: the only non-https
// issuers allowed, and only with allow_loopback_http.
bool is_loopback_http(const std::string& url);

// The URL fetched for an issuer: ISS + "/.well-known/jwks.json".
std::string jwks_url(const std::string& iss);

// USAGE for an ISS that is not an https:// issuer URL (or loopback http:// when allowed),
// NETWORK_ERROR for transport failures and any HTTP status but 200, INPUT_TOO_LARGE past
// kMaxJwksBytes, KEY_INVALID for a document that is not a JWKS with at least one key.
Result<Fetched> fetch_jwks(const std::string& iss, const Options& options = {});

}  // namespace shcx::trust_fetch
