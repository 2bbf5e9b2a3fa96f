#include "shcx/card/inflate.h"

#include <libdeflate.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "shcx/secure.h"

namespace shcx::inflate {

Result<std::string> inflate_raw(std::string_view compressed, size_t max_output) {
    // libdeflate inflates a whole buffer at once, several times faster than zlib's
    // streaming inflate on card-sized payloads. A decompressor holds no stream state
    // between calls but is not thread-safe: one per thread, made once.
    thread_local std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> decompressor(
        libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
    if (!decompressor) return make_error(ErrorCode::INTERNAL, "libdeflate_alloc_decompressor failed");
    // Inflate into this thread's scratch buffer, then copy out exactly what was produced:
    // one allocation of the payload's size per card. A card inflates to a few KB, so the
    // buffer starts there and grows (up to the cap, kept for the next card) only when
    // needed. Output never goes past the cap, so a bomb costs at most the cap.
    thread_local std::string scratch;
    size_t want = std::min(max_output, std::max<size_t>(compressed.size() * 8, size_t{16} << 10));
    if (scratch.size() < want) scratch.resize(want);
    for (;;) {
        size_t avail = std::min(scratch.size(), max_output);
        size_t used_in = 0, produced = 0;
        libdeflate_result rc = libdeflate_deflate_decompress_ex(
            decompressor.get(), compressed.data(), compressed.size(), scratch.data(), avail, &used_in, &produced);
        if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) {
            if (avail >= max_output)
                return make_error(ErrorCode::PAYLOAD_TOO_LARGE,
                                  "payload inflates to more than " + std::to_string(max_output) + " bytes");
            scratch.resize(max_output);
            continue;
        }
        if (rc != LIBDEFLATE_SUCCESS)
            return make_error(ErrorCode::PAYLOAD_NOT_DEFLATED, "payload is not a complete raw DEFLATE stream");
        if (used_in != compressed.size())
            return make_error(ErrorCode::PAYLOAD_NOT_DEFLATED, std::to_string(compressed.size() - used_in) +
                                                                   " bytes of trailing data after the DEFLATE stream");
        return std::string(scratch.data(), produced);
    }
}

Result<std::string> deflate_raw(std::string_view data) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return make_error(ErrorCode::INTERNAL, "zlib deflateInit2 failed");
    std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = ::deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) return make_error(ErrorCode::INTERNAL, "zlib deflate did not finish");
    return out;
}

namespace {

// zlib keeps recent output in its window; these allocators wipe every block it frees.
voidpf wiping_alloc(voidpf, uInt items, uInt size) {
    size_t n = static_cast<size_t>(items) * size;
    auto* p = static_cast<unsigned char*>(std::malloc(n + sizeof(size_t)));
    if (!p) return Z_NULL;
    std::memcpy(p, &n, sizeof n);
    return p + sizeof(size_t);
}

void wiping_free(voidpf, voidpf address) {
    if (!address) return;
    auto* p = static_cast<unsigned char*>(address) - sizeof(size_t);
    size_t n;
    std::memcpy(&n, p, sizeof n);
    OPENSSL_cleanse(p, n + sizeof n);
    std::free(p);
}

}  // namespace

std::optional<Error> inflate_raw_secret(std::string_view compressed, std::string& out, size_t max_output) {
    secure_wipe(out);
    z_stream zs{};
    zs.zalloc = wiping_alloc;
    zs.zfree = wiping_free;
    if (inflateInit2(&zs, -15) != Z_OK) return make_error(ErrorCode::INTERNAL, "zlib inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    zs.avail_in = static_cast<uInt>(compressed.size());
    size_t limit = max_output + 1;  // one byte past the cap tells "too large" from "exactly the cap"
    out.assign(std::min(limit, std::max<size_t>(compressed.size() * 4, 1u << 16)), '\0');
    size_t produced = 0;
    int rc = Z_OK;
    for (;;) {
        if (produced == out.size()) {
            if (out.size() >= limit) break;
            std::string bigger(std::min(limit, out.size() * 2), '\0');
            std::memcpy(bigger.data(), out.data(), produced);
            secure_wipe(out);
            out.swap(bigger);
        }
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
        zs.avail_out = static_cast<uInt>(out.size() - produced);
        rc = ::inflate(&zs, Z_NO_FLUSH);
        produced = out.size() - zs.avail_out;
        if (rc != Z_OK) break;  // Z_STREAM_END, or an error
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = Z_BUF_ERROR;  // the input ended before the stream did
            break;
        }
    }
    size_t left = zs.avail_in;
    inflateEnd(&zs);
    if (produced > max_output) {
        secure_wipe(out);
        return make_error(ErrorCode::PAYLOAD_TOO_LARGE,
                          "payload inflates to more than " + std::to_string(max_output) + " bytes");
    }
    if (rc != Z_STREAM_END || left != 0) {
        secure_wipe(out);
        return make_error(ErrorCode::PAYLOAD_NOT_DEFLATED,
                          left != 0 && rc == Z_STREAM_END
                              ? std::to_string(left) + " bytes of trailing data after the DEFLATE stream"
                              : "payload is not a complete raw DEFLATE stream");
    }
    out.resize(produced);  // shrinking keeps the buffer: no copy is left behind
    return std::nullopt;
}

}  // namespace shcx::inflate
