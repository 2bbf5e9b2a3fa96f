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

namespace shcx::detail {

// A library kept open for the life of the process (never dlclose'd: its functions may be
// held in function pointers anywhere).
class SharedLibrary {
public:
    // Opens `soname` (e.g. "libcurl.so.4"); on failure, a message naming it.
    static std::optional<std::string> open(const char* soname, SharedLibrary& out);

    // Sets `fn` to the function `name`; false (and `fn` untouched) when it is missing.
    template <class F>
    bool resolve(const char* name, F& fn) const {
        void* p = dlsym(m_handle, name);
        if (p == nullptr) return false;
        fn = reinterpret_cast<F>(p);  // POSIX: a function's address is returned as void*
        return true;
    }

    // resolve(), remembering the first name that was not found (see missing()).
    template <class F>
    void need(const char* name, F& fn) {
        if (!resolve(name, fn) && m_first_missing == nullptr) m_first_missing = name;
    }
    // After need() of every function: nullopt, or the message for the first one missing.
    std::optional<std::string> missing(const char* soname) const;

private:
    void* m_handle = nullptr;
    const char* m_first_missing = nullptr;
};

// "SONAME lacks NAME": the message for a function resolve() did not find.
std::string missing_function(const char* soname, const char* name);

}  // namespace shcx::detail
