#include "shcx/detail/stb_api.h"

#include "shcx/detail/shared_library.h"

namespace shcx::detail {
namespace {

// Debian builds the single-header stb libraries into one libstb.so.0 (package libstb0).
constexpr const char* kSoname = "libstb.so.0";

}  // namespace

Result<const StbApi*> stb_api() {
    static const Result<StbApi> loaded = load_table<StbApi>(kSoname, [](SharedLibrary& lib, StbApi& a) {
        lib.need("stbi_info_from_memory", a.info_from_memory);
        lib.need("stbi_load_from_memory", a.load_from_memory);
        lib.need("stbi_image_free", a.image_free);
        lib.need("stbi_failure_reason", a.failure_reason);
        lib.need("stbi_write_png_to_func", a.write_png_to_func);
    });
    return table_of(loaded);
}

}  // namespace shcx::detail
