#include "shcx/share/http_request.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <memory>

#include "shcx/detail/curl_api.h"

namespace shcx::share {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

using detail::CurlApi;
using CurlString = std::unique_ptr<char, void (*)(void*)>;

// Form decoding of one query component: '+' is a space, then %XX by libcurl.
std::optional<std::string> form_decode(const CurlApi& api, std::string_view s) {
    std::string plus(s);
    std::replace(plus.begin(), plus.end(), '+', ' ');
    int n = 0;
    CurlString out(api.easy_unescape(nullptr, plus.data(), static_cast<int>(plus.size()), &n), api.free);
    if (!out) return std::nullopt;
    return std::string(out.get(), static_cast<size_t>(n));
}

bool printable(unsigned char c) { return c > 0x20 && c < 0x7f; }

void append_hex(std::string& out, unsigned char c) {
    static const char* digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 15];
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, a.bytes.begin())) {
        std::copy(a.bytes.begin() + 12, a.bytes.end(), a.bytes.begin());
        std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
        return a;
    }
    a.v6 = true;
    return a;
}

std::string format_ip(const IpAddress& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
    return buf;
}

std::string connection_group(const IpAddress& a) {
    if (!a.v6) return format_ip(a);
    IpAddress network = a;
    std::fill(network.bytes.begin() + 8, network.bytes.end(), 0);
    return format_ip(network) + "/64";
}

bool Cidr::contains(const IpAddress& a) const {
    if (a.v6 != network.v6) return false;
    int full = prefix / 8, rest = prefix % 8;
    if (!std::equal(network.bytes.begin(), network.bytes.begin() + full, a.bytes.begin())) return false;
    if (rest == 0) return true;
    auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (network.bytes[static_cast<size_t>(full)] & mask) == (a.bytes[static_cast<size_t>(full)] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return make_error(ErrorCode::USAGE, "--trusted-proxy " + std::string(text) + ": " + why);
    };
    auto slash = text.find('/');
    auto address = parse_ip(text.substr(0, slash));
    if (!address) return bad("not an IPv4 or IPv6 address");
    Cidr c{*address, address->v6 ? 128 : 32};
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string_view::npos)
            return bad("the prefix length must be a number");
        int prefix = std::stoi(std::string(digits));
        if (prefix > c.prefix) return bad("the prefix length is at most " + std::to_string(c.prefix));
        c.prefix = prefix;
    }
    Cidr masked = c;
    for (int bit = c.prefix; bit < (c.network.v6 ? 128 : 32); ++bit)
        masked.network.bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    if (!(masked.network == c.network))
        return bad("host bits are set (did you mean /" + std::to_string(c.network.v6 ? 128 : 32) + "?)");
    return c;
}

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& cidrs) {
    TrustedProxies t;
    for (const auto& s : cidrs) {
        auto c = parse_cidr(s);
        if (!c) return c.error();
        t.m_ranges.push_back(c.value());
    }
    return t;
}

bool TrustedProxies::trusts(const IpAddress& a) const {
    return std::any_of(m_ranges.begin(), m_ranges.end(), [&](const Cidr& c) { return c.contains(a); });
}

std::string TrustedProxies::client_address(const IpAddress& peer, std::string_view xff) const {
    IpAddress client = peer;
    if (!trusts(peer)) return format_ip(client);
    // Walk from the right: each trusted hop vouches for the entry to its left.
    while (!xff.empty()) {
        auto comma = xff.rfind(',');
        std::string_view entry = trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
        xff = comma == std::string_view::npos ? std::string_view() : xff.substr(0, comma);
        auto a = parse_ip(entry);
        if (!a) break;
        client = *a;
        if (!trusts(client)) break;
    }
    return format_ip(client);
}

bool decode_target(std::string_view target, HttpRequest& out) {
    std::string url;
    if (!target.empty() && target.front() == '/') url = "http://localhost" + std::string(target);
    else if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) url = std::string(target);
    else return false;
    auto loaded = detail::curl_api();
    if (!loaded) return false;
    const CurlApi& api = *loaded.value();
    std::unique_ptr<CURLU, void (*)(CURLU*)> u(api.url(), api.url_cleanup);
    if (!u || api.url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
    char* raw = nullptr;
    if (api.url_get(u.get(), CURLUPART_PATH, &raw, CURLU_URLDECODE) != CURLUE_OK) return false;
    CurlString path(raw, api.free);
    out.path = path.get();
    out.query.clear();
    raw = nullptr;
    CURLUcode rc = api.url_get(u.get(), CURLUPART_QUERY, &raw, 0);
    if (rc == CURLUE_NO_QUERY) return true;
    if (rc != CURLUE_OK) return false;
    CurlString query(raw, api.free);
    std::string_view q(query.get());
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto key = form_decode(api, pair.substr(0, eq));
        auto value = form_decode(api, eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        if (!key || !value) return false;
        out.query.emplace(std::move(*key), std::move(*value));
    }
    return true;
}

std::string escape_log_field(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    for (char ch : field) {
        auto c = static_cast<unsigned char>(ch);
        if (printable(c) && c != '\\') out += ch;
        else append_hex(out, c);
    }
    return out;
}

std::string escape_log_line(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (char ch : line) {
        auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != 0x7f) out += ch;
        else append_hex(out, c);
    }
    return out;
}

std::string log_path(std::string_view path) {
    // A share's sid finds it: the PIN page's /s/{sid}, its SHL manifest's /m/{sid} and an
    // emergency link's /e/{sid} alike.
    if ((path.rfind("/s/", 0) == 0 || path.rfind("/m/", 0) == 0 || path.rfind("/e/", 0) == 0) && path.size() > 7)
        return escape_log_field(path.substr(0, 7)) + "...";
    return escape_log_field(path);
}

void wipe_string(std::string& s) {
    s.resize(s.capacity());
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

void append_wiping(std::string& s, std::string_view more) {
    if (s.size() + more.size() <= s.capacity()) {
        s.append(more);
        return;
    }
    std::string grown;
    grown.reserve(std::max(s.capacity() * 2, s.size() + more.size()));
    grown.append(s);
    grown.append(more);
    wipe_string(s);
    s.swap(grown);
}

}  // namespace shcx::share
