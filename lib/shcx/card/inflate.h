// Raw DEFLATE (RFC 1951, no zlib or gzip wrapper) as SMART Health Card payloads use it.
// Inflation stops at an output cap so a small "decompression bomb" cannot exhaust memory.
#pragma once

#include <string>
#include <string_view>

#include "shcx/error.h"

namespace shcx::inflate {

// A card inflates to a few KB; 1 MiB stops decompression bombs (docs/verification.md B).
inline constexpr size_t kDefaultMaxOutput = 1 << 20;

// PAYLOAD_NOT_DEFLATED for data that is not a complete raw DEFLATE stream (including
// zlib- or gzip-wrapped data and trailing garbage), PAYLOAD_TOO_LARGE past max_output.
Result<std::string> inflate_raw(std::string_view compressed, size_t max_output = kDefaultMaxOutput);

// Raw DEFLATE at the best compression level (issuers should minimise QR size). INTERNAL
// only if zlib itself fails.
Result<std::string> deflate_raw(std::string_view data);

}  // namespace shcx::inflate
