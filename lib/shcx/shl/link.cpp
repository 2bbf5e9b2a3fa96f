#include "shcx/shl/link.h"

#include <cmath>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/shl/jwe.h"
#include "shcx/timeutil.h"
#include "shcx/url.h"

namespace shcx::shl {
namespace {

using detail::Json;

Error invalid(const std::string& message) { return make_error(ErrorCode::SHL_INVALID, message); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// The viewer URL before "#shlink:/", when `text` has that form.
std::optional<std::string_view> viewer_prefix(std::string_view text) {
    size_t hash = text.find("#shlink:/");
    if (hash == std::string_view::npos || hash == 0) return std::nullopt;
    std::string_view viewer = text.substr(0, hash);
    if (viewer.substr(0, 8) != "https://" && viewer.substr(0, 7) != "http://") return std::nullopt;
    for (char c : viewer)
        if (is_space(c)) return std::nullopt;
    return viewer;
}

// Code points of valid UTF-8 (the JSON parser has checked it).
size_t code_points(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

// C0 controls, DEL and the C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F): a label is
// printed on terminals, where these could rewrite what the user sees.
bool has_control(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
    }
    return false;
}

// Wipes the key's base64url text inside the parsed payload before the JSON goes away.
struct KeyWiper {
    Json& j;
    ~KeyWiper() {
        if (!j.is_object()) return;
        auto it = j.find("key");
        if (it != j.end() && it->is_string()) secure_wipe(it->get_ref<std::string&>());
    }
};

}  // namespace

bool looks_like_link(std::string_view text) {
    return text.substr(0, kScheme.size()) == kScheme || viewer_prefix(text).has_value();
}

Result<Link> parse_link(std::string_view text) {
    text = trim(text);
    Link link;
    std::string_view rest = text;
    if (auto viewer = viewer_prefix(text)) {
        link.viewer = std::string(*viewer);
        rest = text.substr(viewer->size() + 1);
    }
    if (rest.substr(0, kScheme.size()) != kScheme)
        return invalid("not a SMART Health Link: it must start with shlink:/ (or a viewer URL and #shlink:/)");
    std::string_view payload_b64 = rest.substr(kScheme.size());
    if (payload_b64.empty()) return invalid("the link has no payload after shlink:/");
    if (payload_b64.size() > kMaxPayloadChars)
        return invalid("the payload is longer than " + std::to_string(kMaxPayloadChars) + " characters");
    auto decoded = base64url::decode(payload_b64);
    if (!decoded)
        return invalid(payload_b64.find('=') != std::string_view::npos
                           ? "the payload is padded base64url ('='); links use base64url without padding"
                           : "the payload is not base64url");
    SecretString payload(std::move(*decoded));
    auto parsed = detail::parse_json(payload.str());
    if (!parsed || !parsed->is_object()) return invalid("the payload is not a JSON object");
    Json& j = *parsed;
    KeyWiper wiper{j};

    const Json* url = detail::member(j, "url");
    if (!url || !url->is_string()) return invalid("url: missing, or not a string");
    link.url = url->get<std::string>();
    if (link.url.size() > kMaxUrlLength)
        return invalid("url: " + std::to_string(link.url.size()) + " characters; the limit is " +
                       std::to_string(kMaxUrlLength));
    if (auto problem = url::fetch_problem(link.url)) return invalid("url: " + *problem);

    const Json* key = detail::member(j, "key");
    if (!key || !key->is_string()) return invalid("key: missing, or not a string");
    const std::string& key_text = key->get_ref<const std::string&>();
    if (key_text.size() != 43) return invalid("key: " + std::to_string(key_text.size()) + " characters; it must be 43");
    auto key_bytes = base64url::decode(key_text);
    if (!key_bytes || key_bytes->size() != kKeyBytes) {
        if (key_bytes) secure_wipe(*key_bytes);
        return invalid("key: not the base64url of 32 bytes");
    }
    link.key = SecretString(std::move(*key_bytes));

    if (const Json* exp = detail::member(j, "exp")) {
        if (!exp->is_number()) return invalid("exp: not a number");
        double e = exp->get<double>();
        if (!std::isfinite(e) || e <= 0) return invalid("exp: must be a positive number of seconds since the epoch");
        if (e > 1e11)
            return invalid("exp: " + exp->dump() + " is past the year 5000 (milliseconds instead of seconds?)");
        link.exp = static_cast<int64_t>(std::floor(e));
    }

    if (const Json* flag = detail::member(j, "flag")) {
        if (!flag->is_string()) return invalid("flag: not a string");
        link.flag = flag->get<std::string>();
        for (size_t i = 0; i < link.flag.size(); ++i) {
            char c = link.flag[i];
            if (c < 'A' || c > 'Z')
                return invalid("flag: \"" + link.flag + "\" holds something other than letters A-Z");
            if (link.flag.find(c, i + 1) != std::string::npos)
                return invalid("flag: '" + std::string(1, c) + "' twice");
        }
        // Unknown letters are ignored: the spec promises new flags will be safe to ignore.
        link.long_term = link.flag.find('L') != std::string::npos;
        link.passcode = link.flag.find('P') != std::string::npos;
        link.direct_file = link.flag.find('U') != std::string::npos;
        if (link.passcode && link.direct_file)
            return invalid("flag: U (a single file, fetched with GET) cannot go with P");
    }

    if (const Json* label = detail::member(j, "label")) {
        if (!label->is_string()) return invalid("label: not a string");
        link.label = label->get<std::string>();
        if (code_points(link.label) > kMaxLabelLength)
            return invalid("label: longer than " + std::to_string(kMaxLabelLength) + " characters");
        if (has_control(link.label)) return invalid("label: holds control characters");
    }

    if (const Json* v = detail::member(j, "v")) {
        if (!v->is_number_integer() && !v->is_number_unsigned()) return invalid("v: not an integer");
        if (v->get<int64_t>() != 1)
            return invalid("v: version " + v->dump() + " is not supported (shcx reads version 1)");
    }
    return link;
}

std::optional<Error> check_not_expired(const Link& link, double now) {
    if (link.exp && static_cast<double>(*link.exp) <= now)
        return make_error(ErrorCode::SHL_EXPIRED,
                          "the link expired at " + timeutil::format_utc(static_cast<double>(*link.exp)) + " (exp)");
    return std::nullopt;
}

std::string encode_link(const LinkFields& fields) {
    Json j;
    j["url"] = fields.url;
    j["key"] = base64url::encode(fields.key);
    if (fields.exp) j["exp"] = *fields.exp;
    if (!fields.flag.empty()) j["flag"] = fields.flag;
    if (!fields.label.empty()) j["label"] = fields.label;
    KeyWiper wiper{j};
    SecretString text(j.dump());
    return std::string(kScheme) + base64url::encode(text.str());
}

std::string describe_flags(const Link& link) {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    for (char c : link.flag) {
        if (c == 'L') add("L (long-term)");
        else if (c == 'P') add("P (passcode)");
        else if (c == 'U') add("U (single file)");
        else add(std::string(1, c) + " (unknown, ignored)");
    }
    return out.empty() ? "none" : out;
}

}  // namespace shcx::shl
