#include "shcx/shl/manifest.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "shcx/detail/json.h"
#include "shcx/http_client.h"
#include "shcx/shl/jwe.h"
#include "shcx/url.h"

namespace shcx::shl {
namespace {

using detail::Json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxRedirects = 5;

Error fail(ErrorCode code, const std::string& message) { return make_error(code, message); }

Error prefixed(const std::string& prefix, Error e) {
    e.message = prefix + e.message;
    return e;
}

std::string origin_of(const std::string& u) {
    auto parts = url::parse(u);
    return parts ? parts.value().origin() : "(invalid URL)";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// JSON string literal of `s`, for request bodies built without keeping the passcode in a
// JSON library's buffers.
void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += ch;
        }
    }
    out += '"';
}

std::string attempts_text(long n) {
    if (n <= 0) return "no attempts remaining: the server has disabled the link";
    return std::to_string(n) + (n == 1 ? " attempt remaining" : " attempts remaining");
}

class Session {
public:
    Session(const FetchOptions& o) : m_opt(o), m_deadline(Clock::now() + std::chrono::seconds(o.link_timeout_s)) {}

    // One request; GET follows redirects within the same origin, POST follows none.
    // Messages say what went wrong without saying what was fetched: callers prefix that.
    Result<http::Response> send(std::string target, const std::string& method, const std::string& body,
                                size_t max_bytes) {
        const std::string first_origin = origin_of(target);
        for (int hop = 0;; ++hop) {
            auto remaining = std::chrono::duration_cast<std::chrono::seconds>(m_deadline - Clock::now()).count();
            if (remaining <= 0)
                return fail(ErrorCode::SHL_FETCH_FAILED,
                            "the link's time limit of " + std::to_string(m_opt.link_timeout_s) + " s is used up");
            http::Request req;
            req.url = target;
            req.method = method;
            if (method == "POST") {
                req.body = body;
                req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
            }
            req.max_bytes = max_bytes;
            req.connect_timeout_s = m_opt.connect_timeout_s;
            req.total_timeout_s = std::min<long>(m_opt.request_timeout_s, static_cast<long>(remaining));
            req.follow_redirects = false;
            auto r = http::send(req);
            secure_wipe(req.body);
            if (!r) {
                if (r.error().code == ErrorCode::INPUT_TOO_LARGE)
                    return fail(ErrorCode::SHL_TOO_LARGE, "larger than " + std::to_string(max_bytes) + " bytes");
                // http's messages start with the URL; only its origin is shown.
                std::string reason = r.error().message;
                if (reason.rfind(target + ": ", 0) == 0) reason = reason.substr(target.size() + 2);
                return fail(ErrorCode::SHL_FETCH_FAILED, origin_of(target) + ": " + reason);
            }
            long status = r.value().status;
            if (status < 300 || status > 399) return r;
            if (method != "GET")
                return fail(ErrorCode::SHL_FETCH_FAILED, "HTTP " + std::to_string(status) + " from " + first_origin +
                                                             ": a manifest request is not redirected");
            const std::string& next = r.value().redirect_url;
            if (next.empty())
                return fail(ErrorCode::SHL_FETCH_FAILED,
                            "HTTP " + std::to_string(status) + " without a Location from " + first_origin);
            if (auto problem = url::fetch_problem(next))
                return fail(ErrorCode::SHL_FETCH_FAILED, "redirect refused: " + *problem);
            if (origin_of(next) != first_origin)
                return fail(ErrorCode::SHL_FETCH_FAILED,
                            "redirect from " + first_origin + " to another origin (" + origin_of(next) + ") refused");
            if (hop + 1 >= kMaxRedirects)
                return fail(ErrorCode::SHL_FETCH_FAILED, "more than " + std::to_string(kMaxRedirects) + " redirects");
            target = next;
        }
    }

private:
    const FetchOptions& m_opt;
    Clock::time_point m_deadline;
};

struct Reader {
    const Link& link;
    const FetchOptions& opt;
    Session session;
    Contents out;
    size_t total_bytes = 0;

    void file_error(size_t index, Error e) {
        e.message = "file " + std::to_string(index) + ": " + e.message;
        out.errors.push_back({index, std::move(e)});
    }

    // Decrypts one JWE as file `index`, which the manifest says is `expected` (empty with U).
    void add_jwe(size_t index, std::string_view jwe, const std::string& expected, const std::string& source,
                 const std::string& last_updated) {
        auto d = decrypt(trim(jwe), link.key.str(), opt.max_file_bytes);
        if (!d) return file_error(index, d.error());
        std::string cty = media_type(d.value().content_type);
        if (!expected.empty() && cty != expected)
            return file_error(index, fail(ErrorCode::SHL_INVALID,
                                          "the manifest says " + expected + " but the file's cty says " + cty));
        if (cty != kHealthCardType && cty != kFhirType) {
            out.warnings.push_back({index, fail(ErrorCode::SHL_CONTENT_SKIPPED, "file " + std::to_string(index) + ": " +
                                                                                    cty + " is not read by shcx")});
            return;
        }
        total_bytes += d.value().plaintext.str().size();
        if (total_bytes > opt.max_total_bytes)
            return file_error(
                index, fail(ErrorCode::SHL_TOO_LARGE,
                            "the link's files together exceed " + std::to_string(opt.max_total_bytes) + " bytes"));
        File f;
        f.index = index;
        f.content_type = cty;
        f.source = source;
        f.last_updated = last_updated;
        f.content = std::move(d.value().plaintext);
        out.files.push_back(std::move(f));
    }

    std::optional<Error> read_direct() {
        auto target = url::with_query_param(link.url, "recipient", opt.recipient);
        if (!target) return fail(ErrorCode::SHL_INVALID, "url: not a URL libcurl can add a query to");
        auto r = session.send(*target, "GET", "", opt.max_file_bytes);
        if (!r) return prefixed("the file: ", r.error());
        long status = r.value().status;
        if (status == 404)
            return fail(ErrorCode::SHL_NOT_FOUND, "the link is no longer active (HTTP 404 from " + out.server + ")");
        if (status != 200)
            return fail(ErrorCode::SHL_FETCH_FAILED,
                        "the file: HTTP " + std::to_string(status) + " from " + out.server);
        out.listed = 1;
        add_jwe(1, r.value().body, "", "direct", "");
        return std::nullopt;
    }

    std::optional<Error> read_manifest() {
        SecretString body;
        std::string& b = body.str();
        b = "{\"recipient\":";
        append_json_string(b, opt.recipient);
        if (link.passcode) {
            b += ",\"passcode\":";
            append_json_string(b, opt.passcode->str());
        }
        b += ",\"embeddedLengthMax\":" + std::to_string(opt.embedded_length_max) + "}";
        auto r = session.send(link.url, "POST", b, opt.max_manifest_bytes);
        if (!r) return prefixed("the manifest: ", r.error());
        const http::Response& res = r.value();
        if (res.status == 401) {
            auto j = detail::parse_json(res.body);
            std::optional<long> remaining = j ? detail::integer_member(*j, "remainingAttempts") : std::nullopt;
            if (!link.passcode)
                return fail(ErrorCode::SHL_PASSCODE_REQUIRED,
                            "the server asks for a passcode (HTTP 401) although the link has no P flag");
            return fail(
                ErrorCode::SHL_PASSCODE_WRONG,
                "the passcode was not accepted; " +
                    (remaining ? attempts_text(*remaining) : "the server did not say how many attempts remain"));
        }
        if (res.status == 404)
            return fail(ErrorCode::SHL_NOT_FOUND,
                        "the link is no longer active: expired, used up or revoked (HTTP 404 from " + out.server + ")");
        if (res.status == 429)
            return fail(ErrorCode::SHL_FETCH_FAILED,
                        "the server is rate limiting (HTTP 429)" +
                            (res.retry_after.empty() ? std::string() : "; retry after " + res.retry_after + " s"));
        if (res.status != 200)
            return fail(ErrorCode::SHL_FETCH_FAILED,
                        "the manifest: HTTP " + std::to_string(res.status) + " from " + out.server);
        return read_files(res.body);
    }

    std::optional<Error> read_files(const std::string& manifest_text) {
        auto manifest = detail::parse_json(manifest_text);
        if (!manifest || !manifest->is_object())
            return fail(ErrorCode::SHL_INVALID, "the manifest is not a JSON object");
        out.manifest_status = detail::string_member(*manifest, "status").value_or("");
        const Json* files = detail::member(*manifest, "files");
        if (!files || !files->is_array()) return fail(ErrorCode::SHL_INVALID, "the manifest has no files array");
        if (files->empty()) return fail(ErrorCode::SHL_INVALID, "the manifest lists no files");
        if (files->size() > opt.max_files)
            return fail(ErrorCode::SHL_TOO_LARGE, "the manifest lists " + std::to_string(files->size()) +
                                                      " files; at most " + std::to_string(opt.max_files) + " are read");
        out.listed = files->size();
        size_t index = 0;
        for (const Json& entry : *files) {
            ++index;
            if (!entry.is_object()) {
                file_error(index, fail(ErrorCode::SHL_INVALID, "the manifest entry is not an object"));
                continue;
            }
            auto content_type = detail::string_member(entry, "contentType");
            if (!content_type || content_type->empty()) {
                file_error(index, fail(ErrorCode::SHL_INVALID, "contentType is missing"));
                continue;
            }
            std::string type = media_type(*content_type);
            std::string last_updated = detail::string_member(entry, "lastUpdated").value_or("");
            if (type != kHealthCardType && type != kFhirType) {
                // Not even fetched: an application/smart-api-access file holds an access token.
                out.warnings.push_back(
                    {index, fail(ErrorCode::SHL_CONTENT_SKIPPED,
                                 "file " + std::to_string(index) + ": " + type + " is not read by shcx")});
                continue;
            }
            const Json* embedded = detail::member(entry, "embedded");
            const Json* location = detail::member(entry, "location");
            if (embedded) {
                if (!embedded->is_string()) {
                    file_error(index, fail(ErrorCode::SHL_INVALID, "embedded is not a string"));
                    continue;
                }
                add_jwe(index, embedded->get_ref<const std::string&>(), type, "embedded", last_updated);
                continue;
            }
            if (!location || !location->is_string()) {
                file_error(index, fail(ErrorCode::SHL_INVALID, "neither embedded nor location is given"));
                continue;
            }
            const std::string& where = location->get_ref<const std::string&>();
            if (auto problem = url::fetch_problem(where)) {
                file_error(index, fail(ErrorCode::SHL_INVALID, "location: " + *problem));
                continue;
            }
            auto r = session.send(where, "GET", "", opt.max_file_bytes);
            if (!r) {
                file_error(index, r.error());
                continue;
            }
            long status = r.value().status;
            if (status == 404) {
                file_error(index,
                           fail(ErrorCode::SHL_NOT_FOUND, "its location is gone (HTTP 404 from " + origin_of(where) +
                                                              "); locations are short-lived: open the link again"));
                continue;
            }
            if (status != 200) {
                file_error(index, fail(ErrorCode::SHL_FETCH_FAILED,
                                       "HTTP " + std::to_string(status) + " from " + origin_of(where)));
                continue;
            }
            add_jwe(index, r.value().body, type, "location", last_updated);
        }
        return std::nullopt;
    }
};

}  // namespace

std::string media_type(std::string_view content_type) {
    std::string_view t = content_type.substr(0, content_type.find(';'));
    t = trim(t);
    std::string out(t);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

Result<Contents> fetch(const Link& link, const FetchOptions& options) {
    if (auto e = check_not_expired(link, options.now)) return *e;
    if (link.passcode && (!options.passcode || options.passcode->str().empty()))
        return fail(ErrorCode::SHL_PASSCODE_REQUIRED, "the link is protected by a passcode (flag P); none was given");
    if (options.recipient.empty()) return fail(ErrorCode::USAGE, "the recipient must not be empty");
    if (auto problem = url::fetch_problem(link.url)) return fail(ErrorCode::SHL_INVALID, "url: " + *problem);
    Reader reader{link, options, Session(options), {}, 0};
    reader.out.server = origin_of(link.url);
    auto e = link.direct_file ? reader.read_direct() : reader.read_manifest();
    if (e) return *e;
    return std::move(reader.out);
}

}  // namespace shcx::shl
