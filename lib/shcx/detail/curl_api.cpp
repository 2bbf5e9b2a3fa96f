#include "shcx/detail/curl_api.h"

#include "shcx/detail/shared_library.h"

// libcurl's soname has been libcurl.so.4 since 7.16 (2006), through 8.x.
static_assert(LIBCURL_VERSION_MAJOR == 7 || LIBCURL_VERSION_MAJOR == 8, "check libcurl's soname");

namespace shcx::detail {
namespace {

constexpr const char* kSoname = "libcurl.so.4";

}  // namespace

Result<const CurlApi*> curl_api() {
    static const Result<CurlApi> loaded = load_table<CurlApi>(kSoname, [](SharedLibrary& lib, CurlApi& a) {
        lib.need("curl_global_init", a.global_init);
        lib.need("curl_easy_init", a.easy_init);
        lib.need("curl_easy_cleanup", a.easy_cleanup);
        lib.need("curl_easy_setopt", a.easy_setopt);
        lib.need("curl_easy_perform", a.easy_perform);
        lib.need("curl_easy_getinfo", a.easy_getinfo);
        lib.need("curl_easy_strerror", a.easy_strerror);
        lib.need("curl_slist_append", a.slist_append);
        lib.need("curl_slist_free_all", a.slist_free_all);
        lib.need("curl_easy_unescape", a.easy_unescape);
        lib.need("curl_free", a.free);
        lib.need("curl_url", a.url);
        lib.need("curl_url_cleanup", a.url_cleanup);
        lib.need("curl_url_set", a.url_set);
        lib.need("curl_url_get", a.url_get);
        lib.need("curl_url_strerror", a.url_strerror);
    });
    return table_of(loaded);
}

}  // namespace shcx::detail
