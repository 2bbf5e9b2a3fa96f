#include "shcx/detail/shared_library.h"

namespace shcx::detail {

std::optional<std::string> SharedLibrary::open(const char* soname, SharedLibrary& out) {
    // RTLD_LOCAL: its symbols stay out of the global scope (nothing else binds to them).
    out.m_handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (out.m_handle != nullptr) return std::nullopt;
    const char* why = dlerror();
    return std::string("cannot load ") + soname + (why != nullptr ? std::string(": ") + why : std::string());
}

std::optional<std::string> SharedLibrary::missing(const char* soname) const {
    if (m_first_missing == nullptr) return std::nullopt;
    return std::string(soname) + " has no function " + m_first_missing + " (too old?)";
}

}  // namespace shcx::detail
