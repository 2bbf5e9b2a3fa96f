#include "shcx/trust/fetch.h"

#include "shcx/card/card.h"
#include "shcx/http_client.h"
#include "shcx/url.h"

namespace shcx::trust_fetch {
// The one URL policy (url.h) lets http:// through to loopback hosts only, so an http://
// URL it accepts as a base URL is a loopback one.
bool is_loopback_http(const std::string& iss) {
    if (iss.empty() || iss.back() == '/' || url::check_public_url(iss)) return false;
    auto parsed = url::parse(iss);
    return parsed && parsed.value().scheme == "http";
}

std::string jwks_url(const std::string& iss) { return iss + "/.well-known/jwks.json"; }

Result<Fetched> fetch_jwks(const std::string& iss, const Options& opt) {
    if (!card::issuer_url_is_valid(iss) && !(opt.allow_loopback_http && is_loopback_http(iss)))
        return make_error(ErrorCode::USAGE,
                          "the issuer URL must be https:// without a trailing slash, got \"" + iss + "\"");
    Fetched out;
    out.url = jwks_url(iss);
    http::Request req;
    req.url = out.url;
    req.max_bytes = kMaxJwksBytes;
    req.total_timeout_s = opt.timeout_s;
    req.headers = {{"Accept", "application/json"}};
    auto resp = http::send(req);
    if (!resp) return resp.error();
    if (resp.value().status != 200)
        return make_error(ErrorCode::NETWORK_ERROR, out.url + ": HTTP " + std::to_string(resp.value().status));
    out.jwks_json = std::move(resp.value().body);
    auto keys = jose::parse_jwks(out.jwks_json);
    if (!keys) return Error{keys.error().code, out.url + ": " + keys.error().message};
    if (keys.value().empty()) return make_error(ErrorCode::KEY_INVALID, out.url + ": the JWKS holds no keys");
    for (auto& jwk : keys.value()) {
        Key k;
        k.thumbprint = jose::ec_thumbprint(jwk.crv, jwk.x, jwk.y);
        k.problems = jose::check_issuer_key(jwk);
        k.jwk = std::move(jwk);
        out.keys.push_back(std::move(k));
    }
    return out;
}

}  // namespace shcx::trust_fetch
