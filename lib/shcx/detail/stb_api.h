// stb_image's and stb_image_write's functions, from Debian's libstb.so.0 opened on first
// use (detail/shared_library.h): only a process that reads or writes an image loads it.
#pragma once

#include <stb_image.h>
#include <stb_image_write.h>

#include "shcx/error.h"

namespace shcx::detail {

// Named as in stb without "stbi_".
struct StbApi {
    decltype(&::stbi_info_from_memory) info_from_memory = nullptr;
    decltype(&::stbi_load_from_memory) load_from_memory = nullptr;
    decltype(&::stbi_image_free) image_free = nullptr;
    decltype(&::stbi_failure_reason) failure_reason = nullptr;
    decltype(&::stbi_write_png_to_func) write_png_to_func = nullptr;
};

// libstb, loaded once per process (thread-safe). INTERNAL when it cannot be loaded; the
// message names the library.
Result<const StbApi*> stb_api();

}  // namespace shcx::detail
