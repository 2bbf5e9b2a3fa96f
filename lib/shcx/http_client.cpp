#include "shcx/http_client.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "shcx/detail/curl_api.h"
#include "shcx/url.h"

namespace shcx::http {
namespace {

struct Transfer {
    const Request* request;
    Response response;
    bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->response.body.size() + len > t->request->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer
    }
    t->response.body.append(data, len);
    return len;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    return s.substr(b);
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name == "etag") t->response.etag = trim(line.substr(colon + 1));
        if (name == "last-modified") t->response.last_modified = trim(line.substr(colon + 1));
        if (name == "retry-after") t->response.retry_after = trim(line.substr(colon + 1));
    }
    return size * n;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->request->cancel && t->request->cancel->load()) return 1;  // aborts the transfer
    if (t->request->on_progress) t->request->on_progress(static_cast<uint64_t>(now), static_cast<uint64_t>(total));
    return 0;
}

void global_init(const detail::CurlApi& api) {
    static std::once_flag once;
    std::call_once(once, [&api] { api.global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

bool url_allowed(const std::string& url) { return !url::fetch_problem(url); }

Result<Response> send(const Request& request) {
    if (!url_allowed(request.url))
        return make_error(ErrorCode::NETWORK_ERROR,
                          "refusing " + request.url + ": only https:// URLs (http:// to loopback)");
    auto loaded = detail::curl_api();
    if (!loaded) return loaded.error();
    const detail::CurlApi& api = *loaded.value();
    global_init(api);
    std::unique_ptr<CURL, void (*)(CURL*)> curl(api.easy_init(), api.easy_cleanup);
    if (!curl) return make_error(ErrorCode::INTERNAL, "libcurl initialisation failed");
    Transfer t{&request, {}, false};
    struct curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) headers = api.slist_append(headers, (k + ": " + v).c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_guard(headers, api.slist_free_all);
    CURL* c = curl.get();
    api.easy_setopt(c, CURLOPT_URL, request.url.c_str());
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    // Redirects stay on https (a mirror may redirect; a downgrade is never followed).
    api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    api.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
    api.easy_setopt(c, CURLOPT_TIMEOUT, request.total_timeout_s);
    api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    api.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
    api.easy_setopt(c, CURLOPT_USERAGENT, request.user_agent.c_str());
    api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (request.method == "POST") {
        api.easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
        api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &t);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &t);
    if (request.on_progress || request.cancel) {
        api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        api.easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    }
    CURLcode rc = api.easy_perform(c);
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return make_error(ErrorCode::INPUT_TOO_LARGE,
                          request.url + ": response is larger than " + std::to_string(request.max_bytes) + " bytes");
    if (rc == CURLE_ABORTED_BY_CALLBACK) return make_error(ErrorCode::NETWORK_ERROR, "cancelled");
    if (rc != CURLE_OK) return make_error(ErrorCode::NETWORK_ERROR, request.url + ": " + api.easy_strerror(rc));
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
    if (!request.follow_redirects) {
        char* location = nullptr;
        if (api.easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
            t.response.redirect_url = location;
    }
    return std::move(t.response);
}

}  // namespace shcx::http
