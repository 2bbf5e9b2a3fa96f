// Compact JWS parsing, SMART Health Card header rules, inflation and payload decoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shcx/card/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view jws(reinterpret_cast<const char*>(data), size);
    auto parts = shcx::jose::parse_compact(jws);
    if (parts) (void)shcx::jose::check_shc_header(parts.value().header_json);
    (void)shcx::decode::decode_jws(jws);
    return 0;
}
