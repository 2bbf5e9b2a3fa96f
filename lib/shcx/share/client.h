// The client side of shares: what `shcx share create|reveal|status|revoke` and other
// programs need besides a terminal. Sealing a record, durations, media types, share
// links (parsed with curl_url under the URL policy of shcx/url.h), the owner's HTTP API
// and the reveal. Redirects: the PIN is POSTed once, to the link's own address, and a
// redirect answering it is refused; the owner API follows a redirect only for a GET and
// only within the server's origin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"
#include "shcx/share/crypto.h"

namespace shcx::share {

// "6h", "90m", "1h30m", "45s", "30d" or plain seconds; nullopt when malformed.
std::optional<double> parse_duration(std::string_view text);

// What a record is, by its content (PDF, PNG, JPEG, SMART Health Card, FHIR, JSON, text,
// bytes): the JWE's cty, which the PIN page uses to show it.
std::string media_type(std::string_view bytes);

// A record encrypted on this machine: the JWE goes to the server, the key only into the
// link's fragment, which browsers and HTTP clients never send.
struct SealedRecord {
    std::string jwe;
    SecretString key;  // 32 bytes
};
SealedRecord seal_record(std::string_view plaintext);
// `url` + "#" + base64url(key).
std::string link_with_key(std::string_view url, const SecretString& key);

// A share as a SMART Health Link with flag P (docs/shl.md, "Making links"): the payload's
// url is the share's manifest URL {public}/m/{sid}, its key the share key, its exp the
// share's expiry; the viewer URL {public}/v#shlink:/... opens the PIN page as a viewer.
struct ShlShare {
    SecretString shlink;      // "shlink:/...", holds the key
    SecretString viewer_url;  // {public}/v#shlink:/...
};
// `share_url` is {public}/s/{sid} as create returns it. SHARE_INVALID when the manifest URL
// would be over the spec's 128 characters (a shorter public URL is needed) or the label
// breaks the spec's rules (80 characters, no control characters).
Result<ShlShare> make_shl(std::string_view share_url, const SecretString& key, int64_t expires_at,
                          std::string_view label);
// The shlink:/ whose manifest URL is {base}/m/{sid}, with `flag`, exp and label; the same
// SHARE_INVALID as make_shl. make_shl's and the emergency tier's (emergency_client.h) links.
Result<SecretString> shlink_for(std::string_view base, std::string_view sid, const SecretString& key,
                                int64_t expires_at, std::string_view flag, std::string_view label);

struct ShareLink {
    std::string post_url;  // the link without its fragment: where the PIN goes
    SecretString key;      // 32 bytes from the fragment
};
// https://HOST[/PREFIX]/s/ID#KEY. URL_INVALID / URL_REFUSED for a URL curl_url or the
// policy refuses, SHARE_LINK_INVALID for any other URL. Messages never show the key.
Result<ShareLink> parse_link(std::string_view text);
// The link held by a file: the first QR code of an image, else the text, trimmed.
// QR_NOT_FOUND, IMAGE_INVALID, SHARE_LINK_INVALID (text over 8 KiB).
Result<std::string> link_text_of(std::string_view file_bytes);

struct CreatedShare {
    std::string id, url, pin, expires_at;  // url without the key
    int reveals = 1;
    std::string label;                      // emergency shares
    std::string notify_url, notify_secret;  // emergency shares with a break-glass webhook
};

// The owner's side of the HTTP API, with a bearer token. Errors: URL_INVALID /
// URL_REFUSED (the server URL), SHARE_UNAUTHORIZED (401: unknown or expired token),
// SHARE_NOT_FOUND (404), SHARE_RATE_LIMITED (429, with the wait), SHARE_INVALID (400),
// SHARE_REDIRECT_REFUSED, NETWORK_ERROR (transport, other statuses), INPUT_TOO_LARGE
// (an answer over 1 MiB).
class ApiClient {
public:
    ApiClient(std::string server_url, std::string token) : m_server(std::move(server_url)), m_token(std::move(token)) {}
    Result<CreatedShare> create(std::string_view jwe, int reveals, long ttl_seconds);
    Result<std::string> status_json(const std::string& id);  // GET /api/v1/shares/{id}, as the server sent it
    std::optional<Error> revoke(const std::string& id);
    // Emergency shares (docs/emergency.md, "The owner's HTTP API"): both tiers are JWEs
    // sealed on this machine; url is {public}/e/{sid}, without the keys. INPUT_TOO_LARGE
    // (413) when the two tiers together are over 1.5 MiB.
    // notify_url (optional): the break-glass webhook; its secret comes back once.
    Result<CreatedShare> create_emergency(std::string_view emergency_jwe, std::string_view full_jwe, long ttl_seconds,
                                          const std::string& label, const std::string& notify_url = {});
    // A new link with the same label and expiry (and notify URL, unless another is given);
    // the old one is revoked by the server.
    Result<CreatedShare> rotate_emergency(const std::string& id, std::string_view emergency_jwe,
                                          std::string_view full_jwe, const std::string& notify_url = {});
    std::optional<Error> resume(const std::string& id);  // break glass works again

private:
    std::string m_server;
    SecretString m_token;
};

// POSTs the PIN once and decrypts the answer with the link's key. SHARE_PIN_MALFORMED
// (checked before anything is sent), SHARE_WRONG_PIN (the message says how many tries
// are left, or that the share is now destroyed), SHARE_NOT_FOUND, SHARE_RATE_LIMITED,
// SHARE_REDIRECT_REFUSED, SHARE_DECRYPT_FAILED, NETWORK_ERROR, INPUT_TOO_LARGE (over 4 MiB).
Result<JweContent> reveal(const ShareLink& link, std::string_view pin);

}  // namespace shcx::share
