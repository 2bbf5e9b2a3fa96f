// Error values and Result<T>: every library stage returns one of these instead of
// printing or throwing. Codes are stable names that scripts match on (see
// man/shcx-verify.1); never rename one, only add.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shcx {

enum class ErrorCode {
    // Input handling
    INPUT_UNREADABLE,     // file could not be opened / read
    INPUT_EMPTY,          // zero bytes, or only whitespace
    INPUT_TOO_LARGE,      // over the input size cap
    INPUT_UNRECOGNIZED,   // not an image, shc:/ text, JWS or known JSON
    IMAGE_INVALID,        // looks like an image but cannot be decoded
    IMAGE_TOO_LARGE,      // dimensions over the cap
    QR_NOT_FOUND,         // an image with no QR code in it
    QR_TOO_MANY_SYMBOLS,  // more QR codes in one image than a card could need
    // A. QR / numeric
    QR_HEADER_INVALID,
    QR_NUMERIC_INVALID,
    QR_CHUNK_MISSING,
    QR_CHUNK_DUPLICATE,
    QR_CHUNK_INDEX_INVALID,
    JWS_TOO_LONG_FOR_QR,  // warning
    TRAILING_CHARACTERS,  // warning
    // B. JWS
    JWS_MALFORMED,
    JWS_TOO_LARGE,
    JWS_HEADER_INVALID,
    PAYLOAD_NOT_DEFLATED,
    PAYLOAD_TOO_LARGE,
    PAYLOAD_JSON_INVALID,
    SIGNATURE_FORMAT_INVALID,
    JWS_SIGNATURE_INVALID,
    // C. Payload
    ISSUER_URL_INVALID,
    DATE_IN_MILLISECONDS,
    NOT_YET_VALID,
    EXPIRED,
    CARD_SCHEMA_INVALID,
    DEPRECATED_TYPE,      // warning
    RID_INVALID,
    // D. Keys and trust
    KEY_INVALID,
    KEY_KID_MISMATCH,
    ISSUER_NOT_TRUSTED,
    KEY_UNKNOWN,
    X5C_INVALID,
    // E. Revocation
    REVOKED,
    CRL_UNAVAILABLE,      // warning
    CRL_STALE,            // warning
    CRL_INVALID,
    // F. Trust snapshot
    SNAPSHOT_SIGNATURE_INVALID,
    SNAPSHOT_INVALID,
    // Venue policies
    POLICY_INVALID,
    // Shares
    SHARE_DECRYPT_FAILED,
    SHARE_WRONG_PIN,
    SHARE_NOT_FOUND,
    SHARE_RATE_LIMITED,
    SHARE_INVALID,
    SHARE_LINK_INVALID,      // not https://HOST/.../s/ID#KEY
    SHARE_PIN_MALFORMED,     // not 8 characters of the PIN alphabet
    SHARE_REDIRECT_REFUSED,  // the share server answered with a redirect we do not follow
    SHARE_UNAUTHORIZED,      // the API token is unknown, expired or missing
    SHARE_PEPPER_MISSING,    // the database needs a pepper file that is not there
    SHARE_PEPPER_MISMATCH,   // the pepper file is not the one the database was made with
    // Environment
    URL_INVALID,          // not a URL curl_url accepts
    URL_REFUSED,          // against the URL policy (shcx/url.h): not https, userinfo ...
    IO_ERROR,
    NETWORK_ERROR,
    USAGE,
    INTERNAL,
};

// Stable SCREAMING_SNAKE name of a code, e.g. "QR_CHUNK_MISSING".
std::string_view code_name(ErrorCode code);

struct Error {
    ErrorCode code;
    std::string message;
};

// A value or an Error. Deliberately small: ok(), value(), error().
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace shcx
