#include "shcx/share/client.h"

#include <algorithm>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/http_client.h"
#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"
#include "shcx/share/api.h"
#include "shcx/shl/link.h"
#include "shcx/url.h"

namespace shcx::share {
namespace {

using detail::Json;

constexpr size_t kMaxApiAnswer = 1u << 20;
constexpr size_t kMaxRevealAnswer = 4u << 20;  // a 1.5 MiB JWE with room to spare
constexpr int kMaxRedirects = 3;

bool is_redirect(long status) { return status >= 300 && status < 400; }

std::string where_to(const http::Response& r) {
    auto u = url::parse(r.redirect_url);
    return u ? u.value().origin() : std::string("an unreadable Location");
}

// The message of a JSON error answer, or `fallback`.
std::string error_text(const std::string& body, const std::string& fallback) {
    auto j = detail::parse_json(body, 4);
    if (!j || !j->is_object()) return fallback;
    return detail::string_member(*j, "message").value_or(detail::string_member(*j, "error").value_or(fallback));
}

std::string retry_text(const http::Response& r) {
    return r.retry_after.empty() ? "retry later" : "retry after " + r.retry_after + " s";
}

// One owner API request. Redirects: only for a GET and only within the server's origin.
Result<http::Response> api_call(const std::string& server, const SecretString& token, const std::string& method,
                                const std::string& path, std::string_view body = {},
                                const char* content_type = "application/jose") {
    if (auto e = url::check_public_url(server)) return *e;
    auto base = url::parse_allowed(server);
    if (!base) return base.error();
    if (token.str().empty()) return make_error(ErrorCode::SHARE_UNAUTHORIZED, "no API token");
    std::string root = server;
    while (!root.empty() && root.back() == '/') root.pop_back();
    http::Request req;
    req.url = root + path;
    req.method = method;
    req.body = std::string(body);
    req.headers = {{"Authorization", "Bearer " + token.str()}};
    if (!body.empty()) req.headers.push_back({"Content-Type", content_type});
    req.max_bytes = kMaxApiAnswer;
    req.total_timeout_s = 60;
    req.follow_redirects = false;
    for (int hop = 0;; ++hop) {
        auto r = http::send(req);
        secure_wipe(req.headers.front().second);
        if (!r || !is_redirect(r.value().status)) return r;
        auto next = url::parse_allowed(r.value().redirect_url);
        if (method != "GET" || hop == kMaxRedirects || !next || !url::same_origin(base.value(), next.value()))
            return make_error(ErrorCode::SHARE_REDIRECT_REFUSED,
                              "the server answered " + method + " " + path + " with HTTP " +
                                  std::to_string(r.value().status) + " to " + where_to(r.value()) +
                                  ": not followed (only a GET is, and only within " + base.value().origin() + ")");
        req.url = next.value().without_fragment();
        req.headers.front().second = "Bearer " + token.str();
    }
}

Error api_error(const http::Response& r, const std::string& what) {
    std::string msg = error_text(r.body, "HTTP " + std::to_string(r.status));
    switch (r.status) {
        case 401:
            return make_error(ErrorCode::SHARE_UNAUTHORIZED,
                              msg == "token_expired" ? what +
                                                           ": the API token has expired (the operator can issue a new "
                                                           "one with `shcx share user rotate`)"
                                                     : what + ": the server refused the API token");
        case 404: return make_error(ErrorCode::SHARE_NOT_FOUND, what + ": not found");
        case 429: return make_error(ErrorCode::SHARE_RATE_LIMITED, what + ": " + msg + "; " + retry_text(r));
        case 400: return make_error(ErrorCode::SHARE_INVALID, what + ": " + msg);
        case 413:
            return make_error(ErrorCode::INPUT_TOO_LARGE, what + ": the server refused the request as too large (" +
                                                              (msg == "too_large" ? "HTTP 413" : msg) + ")");
    }
    return make_error(ErrorCode::NETWORK_ERROR,
                      what + ": the server answered HTTP " + std::to_string(r.status) + ": " + msg);
}

Error wrong_pin(const std::string& body) {
    auto j = detail::parse_json(body, 4);
    bool object = j && j->is_object();
    if (object && detail::string_member(*j, "error") == "malformed_pin")
        return make_error(ErrorCode::SHARE_PIN_MALFORMED, "the server did not accept the PIN's form");
    long left = object ? detail::integer_member(*j, "remaining_attempts").value_or(-1) : -1;
    if (left < 0) return make_error(ErrorCode::SHARE_WRONG_PIN, "wrong PIN");
    if (left == 0)
        return make_error(ErrorCode::SHARE_WRONG_PIN,
                          "wrong PIN; that was the last try: the share is now destroyed (ask for a new link)");
    if (left == 1)
        return make_error(ErrorCode::SHARE_WRONG_PIN, "wrong PIN; 1 try left: one more wrong PIN destroys the share");
    return make_error(ErrorCode::SHARE_WRONG_PIN, "wrong PIN; " + std::to_string(left) + " tries left");
}

}  // namespace

std::optional<double> parse_duration(std::string_view s) {
    if (s.empty() || s.size() > 32) return std::nullopt;
    double total = 0, value = 0;
    bool have_digits = false, any_unit = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            have_digits = true;
            continue;
        }
        double unit = c == 'd' ? 86400 : c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : 0;
        if (!unit || !have_digits) return std::nullopt;
        total += value * unit;
        value = 0;
        have_digits = false;
        any_unit = true;
    }
    if (have_digits) total += value;  // a trailing bare number: seconds
    else if (!any_unit) return std::nullopt;
    return total;
}

std::string media_type(std::string_view bytes) {
    if (bytes.substr(0, 5) == "%PDF-") return "application/pdf";
    auto img = image::sniff(bytes);
    if (img == image::Format::Png) return "image/png";
    if (img == image::Format::Jpeg) return "image/jpeg";
    if (auto j = detail::parse_json(bytes); j && j->is_object()) {
        if (j->contains("verifiableCredential")) return "application/smart-health-card";
        if (j->contains("resourceType")) return "application/fhir+json";
        return "application/json";
    }
    bool text = std::all_of(bytes.begin(), bytes.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 || c == '\n' || c == '\r' || c == '\t';
    });
    return text ? "text/plain; charset=utf-8" : "application/octet-stream";
}

SealedRecord seal_record(std::string_view plaintext) {
    SealedRecord out;
    out.key = SecretString(random_bytes(32));
    out.jwe = jwe_encrypt(out.key.str(), plaintext, media_type(plaintext));
    return out;
}

std::string link_with_key(std::string_view url, const SecretString& key) {
    return std::string(url) + "#" + base64url::encode(key.str());
}

Result<SecretString> shlink_for(std::string_view base, std::string_view sid, const SecretString& key,
                                int64_t expires_at, std::string_view flag, std::string_view label) {
    std::string manifest = std::string(base) + std::string(kManifestPath) + std::string(sid);
    if (manifest.size() > shl::kMaxUrlLength)
        return make_error(ErrorCode::SHARE_INVALID,
                          "the manifest URL would be " + std::to_string(manifest.size()) +
                              " characters; SMART Health Links allow " + std::to_string(shl::kMaxUrlLength) +
                              " (use a public URL of at most " +
                              std::to_string(shl::kMaxUrlLength - (manifest.size() - base.size())) + " characters)");
    SecretString shlink(shl::encode_link({manifest, key.str(), expires_at, std::string(flag), std::string(label)}));
    // The reader's own rules, so that what we hand out is what we would accept.
    if (auto parsed = shl::parse_link(shlink.str()); !parsed)
        return make_error(ErrorCode::SHARE_INVALID, parsed.error().message);
    return shlink;
}

Result<ShlShare> make_shl(std::string_view share_url, const SecretString& key, int64_t expires_at,
                          std::string_view label) {
    auto at = share_url.rfind(kSharePath);
    if (at == std::string_view::npos) return make_error(ErrorCode::SHARE_INVALID, "not a share URL ({public}/s/ID)");
    std::string base(share_url.substr(0, at));
    auto shlink = shlink_for(base, share_url.substr(at + kSharePath.size()), key, expires_at, "P", label);
    if (!shlink) return shlink.error();
    ShlShare out;
    out.shlink = std::move(shlink.value());
    out.viewer_url = SecretString(base + std::string(kViewerPath) + "#" + out.shlink.str());
    return out;
}

Result<ShareLink> parse_link(std::string_view text) {
    const std::string shape = "not a share link (https://HOST/s/ID#KEY)";
    auto u = url::parse_allowed(text);
    if (!u) {
        if (u.error().code == ErrorCode::URL_INVALID && text.find("://") == std::string_view::npos)
            return make_error(ErrorCode::SHARE_LINK_INVALID, shape);
        return u.error();
    }
    const std::string& path = u.value().path;
    auto at = path.rfind("/s/");
    std::string sid = at == std::string::npos ? "" : path.substr(at + 3);
    if (sid.size() != 22 || !base64url::is_alphabet(sid) || !u.value().query.empty())
        return make_error(ErrorCode::SHARE_LINK_INVALID, shape + ": " + u.value().origin() + " ...");
    auto key = base64url::decode(u.value().fragment);
    SecretString fragment(std::move(u.value().fragment));
    if (!key || key->size() != 32) {
        if (key) secure_wipe(*key);
        return make_error(ErrorCode::SHARE_LINK_INVALID, "the link's key (after #) is missing or damaged");
    }
    ShareLink link;
    link.key = SecretString(std::move(*key));
    link.post_url = u.value().without_fragment();
    return link;
}

Result<std::string> link_text_of(std::string_view bytes) {
    if (image::sniff(bytes) != image::Format::None) {
        auto img = image::decode_gray(bytes);
        if (!img) return img.error();
        auto texts = qr_read::read_qr_texts(img.value());
        if (texts.empty()) return make_error(ErrorCode::QR_NOT_FOUND, "no QR code found in the image");
        return texts.front();
    }
    auto begin = bytes.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return make_error(ErrorCode::SHARE_LINK_INVALID, "the file is empty");
    auto end = bytes.find_last_not_of(" \t\r\n");
    if (end - begin + 1 > 8192) return make_error(ErrorCode::SHARE_LINK_INVALID, "more than 8 KiB of text: not a link");
    return std::string(bytes.substr(begin, end - begin + 1));
}

// The 201 answer of a create or rotate.
Result<CreatedShare> created_of(const Result<http::Response>& r, const std::string& what) {
    if (!r) return r.error();
    if (r.value().status != 201) return api_error(r.value(), what);
    auto j = detail::parse_json(r.value().body);
    if (!j || !j->is_object()) return make_error(ErrorCode::NETWORK_ERROR, what + ": the server's answer is not JSON");
    CreatedShare c;
    c.id = detail::string_member(*j, "id").value_or("");
    c.url = detail::string_member(*j, "url").value_or("");
    c.pin = detail::string_member(*j, "challenge").value_or("");
    c.expires_at = detail::string_member(*j, "expires_at").value_or("");
    c.reveals = static_cast<int>(detail::integer_member(*j, "reveals").value_or(1));
    c.label = detail::string_member(*j, "label").value_or("");
    c.notify_url = detail::string_member(*j, "notify_url").value_or("");
    c.notify_secret = detail::string_member(*j, "notify_secret").value_or("");
    if (c.url.empty() || c.pin.empty() || c.id.empty())
        return make_error(ErrorCode::NETWORK_ERROR, what + ": the server's answer lacks id, url or challenge");
    if (auto e = url::check_allowed(c.url)) return *e;  // a link we would not open ourselves
    return c;
}

Result<CreatedShare> ApiClient::create(std::string_view jwe, int reveals, long ttl_seconds) {
    return created_of(
        api_call(m_server, m_token, "POST",
                 "/api/v1/shares?reveals=" + std::to_string(reveals) + "&ttl=" + std::to_string(ttl_seconds), jwe),
        "create");
}

Result<CreatedShare> ApiClient::create_emergency(std::string_view emergency_jwe, std::string_view full_jwe,
                                                 long ttl_seconds, const std::string& label,
                                                 const std::string& notify_url) {
    Json body{{"emergency", emergency_jwe}, {"full", full_jwe}, {"ttl", ttl_seconds}, {"label", label}};
    if (!notify_url.empty()) body["notify_url"] = notify_url;
    return created_of(api_call(m_server, m_token, "POST", "/api/v1/emergency", body.dump(), "application/json"),
                      "create");
}

Result<CreatedShare> ApiClient::rotate_emergency(const std::string& id, std::string_view emergency_jwe,
                                                 std::string_view full_jwe, const std::string& notify_url) {
    Json body{{"emergency", emergency_jwe}, {"full", full_jwe}};
    if (!notify_url.empty()) body["notify_url"] = notify_url;
    auto r = api_call(m_server, m_token, "POST", "/api/v1/shares/" + id + "/rotate", body.dump(), "application/json");
    if (r && r.value().status == 404)
        return make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id);
    return created_of(r, "rotate " + id);
}

std::optional<Error> ApiClient::resume(const std::string& id) {
    auto r = api_call(m_server, m_token, "POST", "/api/v1/shares/" + id + "/resume");
    if (!r) return r.error();
    if (r.value().status == 404) return make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id);
    if (r.value().status != 200) return api_error(r.value(), "resume " + id);
    return std::nullopt;
}

Result<std::string> ApiClient::status_json(const std::string& id) {
    auto r = api_call(m_server, m_token, "GET", "/api/v1/shares/" + id);
    if (!r) return r.error();
    if (r.value().status != 200) return api_error(r.value(), "status of " + id);
    auto j = detail::parse_json(r.value().body);
    if (!j || !j->is_object()) return make_error(ErrorCode::NETWORK_ERROR, "status: the server's answer is not JSON");
    return std::move(r.value().body);
}

std::optional<Error> ApiClient::revoke(const std::string& id) {
    auto r = api_call(m_server, m_token, "DELETE", "/api/v1/shares/" + id);
    if (!r) return r.error();
    if (r.value().status == 404) return make_error(ErrorCode::SHARE_NOT_FOUND, "no live share with id " + id);
    if (r.value().status != 200) return api_error(r.value(), "revoke " + id);
    return std::nullopt;
}

Result<JweContent> reveal(const ShareLink& link, std::string_view pin) {
    auto normal = normalise_pin(pin);
    if (!normal)
        return make_error(ErrorCode::SHARE_PIN_MALFORMED,
                          "a PIN is 8 characters: digits and letters except U (O reads as 0, I and L as 1)");
    http::Request req;
    req.url = link.post_url;
    req.method = "POST";
    req.body = Json{{"challenge", normal->str()}}.dump();
    req.headers.push_back({"Content-Type", "application/json"});
    req.max_bytes = kMaxRevealAnswer;
    req.total_timeout_s = 60;
    req.follow_redirects = false;  // the PIN goes once, to this address, and nowhere else
    auto r = http::send(req);
    secure_wipe(req.body);
    if (!r) return r.error();
    const http::Response& res = r.value();
    if (is_redirect(res.status))
        return make_error(ErrorCode::SHARE_REDIRECT_REFUSED,
                          "the server answered the PIN with HTTP " + std::to_string(res.status) + " to " +
                              where_to(res) + ": not followed (a PIN is sent once, only to the link's own address)");
    switch (res.status) {
        case 200: break;
        case 403: return wrong_pin(res.body);
        case 404:
            return make_error(ErrorCode::SHARE_NOT_FOUND,
                              "the link is not valid (unknown, expired, already used, revoked or destroyed)");
        case 429:
            return make_error(ErrorCode::SHARE_RATE_LIMITED,
                              (error_text(res.body, "") == "busy" ? "other attempts on this share are in progress; "
                                                                  : "too many attempts; ") +
                                  retry_text(res));
        default: return make_error(ErrorCode::NETWORK_ERROR, "the server answered HTTP " + std::to_string(res.status));
    }
    return jwe_decrypt(link.key.str(), res.body);
}

}  // namespace shcx::share
