// Shared libraries opened when first used (dlopen) instead of by the dynamic loader at
// start-up. libcurl and libpq each pull in some thirty libraries (Kerberos, LDAP, GnuTLS,
// ...) whose relocations cost several milliseconds in every process, also in the commands
// that never touch the network or a database; SQLite, libargon2, libqrencode and stb cost
// about 1.3 ms together in a `shcx verify` that uses none of them (docs/performance.md
// "Start-up").
#pragma once

#include <dlfcn.h>

#include <optional>
#include <string>

#include "shcx/error.h"

namespace shcx::detail {

// A library kept open for the life of the process (never dlclose'd: its functions may be
// held in function pointers anywhere).
class SharedLibrary {
public:
    // Opens `soname` (e.g. "libcurl.so.4"); on failure, a message naming it.
    static std::optional<std::string> open(const char* soname, SharedLibrary& out);

    // Sets `fn` to the function `name`; when it is missing, `fn` stays untouched and the
    // first such name is kept for missing().
    template <class F>
    void need(const char* name, F& fn) {
        void* p = dlsym(m_handle, name);
        if (p != nullptr) fn = reinterpret_cast<F>(p);  // POSIX: a function's address is returned as void*
        else if (m_first_missing == nullptr) m_first_missing = name;
    }
    // After need() of every function: nullopt, or the message for the first one missing.
    std::optional<std::string> missing(const char* soname) const;

private:
    void* m_handle = nullptr;
    const char* m_first_missing = nullptr;
};

// Opens `soname` and fills an Api table with `fill(lib, api)`, which calls lib.need() for
// each function. INTERNAL naming the library, or the first function it lacks. Each *_api()
// keeps the result in a function-local static: loaded once per process, thread-safe.
template <class Api, class Fill>
Result<Api> load_table(const char* soname, Fill fill) {
    SharedLibrary lib;
    if (auto e = SharedLibrary::open(soname, lib)) return make_error(ErrorCode::INTERNAL, *e);
    Api api;
    fill(lib, api);
    if (auto e = lib.missing(soname)) return make_error(ErrorCode::INTERNAL, *e);
    return api;
}

// The table load_table() gave, or its error.
template <class Api>
Result<const Api*> table_of(const Result<Api>& loaded) {
    if (!loaded) return loaded.error();
    return &loaded.value();
}

}  // namespace shcx::detail
