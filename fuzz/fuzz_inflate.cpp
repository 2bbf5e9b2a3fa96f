// Raw inflate with the output cap: never more than the cap, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shcx/card/inflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t kCap = 64 * 1024;  // a small cap keeps iterations fast; same code path
    auto out = shcx::inflate::inflate_raw(std::string_view(reinterpret_cast<const char*>(data), size), kCap);
    if (out && out.value().size() > kCap) __builtin_trap();
    return 0;
}
