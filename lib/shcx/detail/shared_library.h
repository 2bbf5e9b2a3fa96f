// Shared libraries opened when first used (dlopen) instead of by the dynamic loader at
// start-up. libcurl and libpq each pull in some thirty libraries (Kerberos, LDAP, GnuTLS,
// ...) whose relocations cost several milliseconds in every process, also in the commands
// that never touch the network or a database (docs/performance.md "Start-up").
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

private:
    void* m_handle = nullptr;
};

// "SONAME lacks NAME": the message for a function resolve() did not find.
std::string missing_function(const char* soname, const char* name);

}  // namespace shcx::detail
