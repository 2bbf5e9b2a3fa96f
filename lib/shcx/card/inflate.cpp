#include "shcx/card/inflate.h"

#include <openssl/crypto.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "shcx/secure.h"

namespace shcx::inflate {

Result<std::string> inflate_raw(std::string_view compressed, size_t max_output) {
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) return make_error(ErrorCode::INTERNAL, "zlib inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    zs.avail_in = static_cast<uInt>(compressed.size());
    std::string out;
    char buf[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = ::inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) break;
        size_t produced = sizeof buf - zs.avail_out;
        if (out.size() + produced > max_output) {
            inflateEnd(&zs);
            return make_error(ErrorCode::PAYLOAD_TOO_LARGE,
                              "payload inflates to more than " + std::to_string(max_output) + " bytes");
        }
        out.append(buf, produced);
        if (rc == Z_OK && produced == 0 && zs.avail_in == 0) {
            rc = Z_BUF_ERROR;  // input ended before the stream did
            break;
        }
    }
    size_t left = zs.avail_in;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return make_error(ErrorCode::PAYLOAD_NOT_DEFLATED, "payload is not a complete raw DEFLATE stream");
    if (left != 0)
        return make_error(ErrorCode::PAYLOAD_NOT_DEFLATED,
                          std::to_string(left) + " bytes of trailing data after the DEFLATE stream");
    return out;
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
                          left != 0 && rc == Z_STREAM_END ? std::to_string(left) + " bytes of trailing data after the DEFLATE stream"
                                                          : "payload is not a complete raw DEFLATE stream");
    }
    out.resize(produced);  // shrinking keeps the buffer: no copy is left behind
    return std::nullopt;
}

}  // namespace shcx::inflate
