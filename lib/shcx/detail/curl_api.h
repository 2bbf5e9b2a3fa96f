// libcurl's functions, from libcurl.so.4 opened on first use (detail/shared_library.h), so
// that only a process that parses a URL or fetches one loads libcurl and its dependencies.
#pragma once

#include <curl/curl.h>

#include "shcx/error.h"

namespace shcx::detail {

// The functions http_client.cpp, url.cpp and share/http_request.cpp call, named as in libcurl without "curl_".
struct CurlApi {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    decltype(&::curl_easy_unescape) easy_unescape = nullptr;
    decltype(&::curl_free) free = nullptr;
    decltype(&::curl_url) url = nullptr;
    decltype(&::curl_url_cleanup) url_cleanup = nullptr;
    decltype(&::curl_url_set) url_set = nullptr;
    decltype(&::curl_url_get) url_get = nullptr;
    decltype(&::curl_url_strerror) url_strerror = nullptr;
};

// libcurl, loaded once per process (thread-safe). INTERNAL when it cannot be loaded; the
// message names the library.
Result<const CurlApi*> curl_api();

}  // namespace shcx::detail
