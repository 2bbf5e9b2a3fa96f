#include "shcx/detail/argon2_api.h"

#include "shcx/detail/shared_library.h"

namespace shcx::detail {
namespace {

// The soname of the reference implementation since its 2016 releases (Debian 9 on).
constexpr const char* kSoname = "libargon2.so.1";

}  // namespace

Result<const Argon2Api*> argon2_api() {
    static const Result<Argon2Api> loaded = load_table<Argon2Api>(kSoname, [](SharedLibrary& lib, Argon2Api& a) {
        lib.need("argon2id_hash_raw", a.id_hash_raw);
        lib.need("argon2_error_message", a.error_message);
    });
    return table_of(loaded);
}

}  // namespace shcx::detail
