// SMART Health Links: everything read from a QR code or a server. The first byte picks
// the parser: 'L' a link payload, 'J' a JWE under a fixed key (content cap respected),
// anything else FHIR content to summarise. Never a crash, never more than the cap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shcx/shl/content.h"
#include "shcx/shl/jwe.h"
#include "shcx/shl/link.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0]) {
        case 'L': {
            auto link = shcx::shl::parse_link(rest);
            if (link && link.value().key.str().size() != shcx::shl::kKeyBytes) __builtin_trap();
            break;
        }
        case 'J': {
            constexpr size_t kCap = 64 * 1024;
            const std::string key(32, '\x11');
            auto d = shcx::shl::decrypt(rest, key, kCap);
            if (d && d.value().plaintext.str().size() > kCap) __builtin_trap();
            break;
        }
        default: (void)shcx::shl::summarize_fhir(rest);
    }
    return 0;
}
