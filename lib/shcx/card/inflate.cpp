#include "shcx/card/inflate.h"

#include <zlib.h>

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

}  // namespace shcx::inflate
