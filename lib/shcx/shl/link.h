// SMART Health Links (docs/shl.md): the link itself. "shlink:/" + base64url(minified JSON
// payload), optionally after a viewer URL ending in '#'. The payload names the manifest
// url, the 32-byte key that decrypts every file, and optionally exp, flag, label and v.
// Parsing and checking is offline; fetching is shl/manifest.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"

namespace shcx::shl {

inline constexpr std::string_view kScheme = "shlink:/";
inline constexpr size_t kMaxUrlLength = 128;   // the spec's limit on the manifest url
inline constexpr size_t kMaxLabelLength = 80;  // characters (code points), not bytes
// Longest payload read: a QR code holds under 3 KB; extensions may add a little.
inline constexpr size_t kMaxPayloadChars = 4096;

struct Link {
    std::string url;             // the manifest (or, with U, the file) URL
    SecretString key;            // 32 raw bytes
    std::optional<int64_t> exp;  // epoch seconds
    std::string flag;            // as written, e.g. "LP"
    bool long_term = false;      // L
    bool passcode = false;       // P: the manifest request needs a passcode
    bool direct_file = false;    // U: url is one encrypted file, fetched with GET
    std::string label;
    int version = 1;
    std::string viewer;  // the viewer URL before '#', when there was one
};

// True when `text` (one line, already trimmed) is a link: it starts with "shlink:/", or it
// is an http(s) URL whose fragment starts with "shlink:/". Nothing is decoded or checked.
bool looks_like_link(std::string_view text);

// SHL_INVALID, naming the rule, unless the payload is base64url of a JSON object with:
// url (https://, or http:// to loopback; no user:password@; at most 128 characters), key
// (43 base64url characters of 32 bytes), exp (a positive number), flag (distinct letters
// A-Z; U never with P; unknown letters ignored), label (at most 80 characters, no control
// characters) and v (absent or 1). Unknown members are ignored, as the spec requires.
Result<Link> parse_link(std::string_view text);

// SHL_EXPIRED when the link has an exp at or before `now` (epoch seconds).
std::optional<Error> check_not_expired(const Link& link, double now);

// "shlink:/..." for a payload; the inverse of parse_link, for producers and tests.
struct LinkFields {
    std::string url;
    std::string key;  // 32 raw bytes
    std::optional<int64_t> exp;
    std::string flag, label;
};
std::string encode_link(const LinkFields& fields);

// "P (passcode), L (long-term)" for people.
std::string describe_flags(const Link& link);

}  // namespace shcx::shl
