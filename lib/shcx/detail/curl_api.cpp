#include "shcx/detail/curl_api.h"

#include "shcx/detail/shared_library.h"

// libcurl's soname has been libcurl.so.4 since 7.16 (2006), through 8.x.
static_assert(LIBCURL_VERSION_MAJOR == 7 || LIBCURL_VERSION_MAJOR == 8, "check libcurl's soname");

namespace shcx::detail {
namespace {

constexpr const char* kSoname = "libcurl.so.4";

Result<CurlApi> load() {
    SharedLibrary lib;
    if (auto e = SharedLibrary::open(kSoname, lib)) return make_error(ErrorCode::INTERNAL, *e);
    CurlApi a;
    struct Entry {
        const char* name;
        bool found;
    };
    const Entry entries[] = {
        {"curl_global_init", lib.resolve("curl_global_init", a.global_init)},
        {"curl_easy_init", lib.resolve("curl_easy_init", a.easy_init)},
        {"curl_easy_cleanup", lib.resolve("curl_easy_cleanup", a.easy_cleanup)},
        {"curl_easy_setopt", lib.resolve("curl_easy_setopt", a.easy_setopt)},
        {"curl_easy_perform", lib.resolve("curl_easy_perform", a.easy_perform)},
        {"curl_easy_getinfo", lib.resolve("curl_easy_getinfo", a.easy_getinfo)},
        {"curl_easy_strerror", lib.resolve("curl_easy_strerror", a.easy_strerror)},
        {"curl_slist_append", lib.resolve("curl_slist_append", a.slist_append)},
        {"curl_slist_free_all", lib.resolve("curl_slist_free_all", a.slist_free_all)},
        {"curl_easy_unescape", lib.resolve("curl_easy_unescape", a.easy_unescape)},
        {"curl_free", lib.resolve("curl_free", a.free)},
        {"curl_url", lib.resolve("curl_url", a.url)},
        {"curl_url_cleanup", lib.resolve("curl_url_cleanup", a.url_cleanup)},
        {"curl_url_set", lib.resolve("curl_url_set", a.url_set)},
        {"curl_url_get", lib.resolve("curl_url_get", a.url_get)},
        {"curl_url_strerror", lib.resolve("curl_url_strerror", a.url_strerror)},
    };
    for (const auto& e : entries)
        if (!e.found) return make_error(ErrorCode::INTERNAL, missing_function(kSoname, e.name));
    return a;
}

}  // namespace

Result<const CurlApi*> curl_api() {
    static const Result<CurlApi> loaded = load();
    if (!loaded) return loaded.error();
    return &loaded.value();
}

}  // namespace shcx::detail
