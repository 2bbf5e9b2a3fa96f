#include "shcx/detail/qrencode_api.h"

#include "shcx/detail/shared_library.h"

namespace shcx::detail {
namespace {

// libqrencode.so.4 since libqrencode 4.0 (2017); 3.x had .so.3 and another QRinput API.
constexpr const char* kSoname = "libqrencode.so.4";

}  // namespace

Result<const QrencodeApi*> qrencode_api() {
    static const Result<QrencodeApi> loaded = load_table<QrencodeApi>(kSoname, [](SharedLibrary& lib, QrencodeApi& a) {
        lib.need("QRinput_new2", a.input_new2);
        lib.need("QRinput_append", a.input_append);
        lib.need("QRinput_free", a.input_free);
        lib.need("QRcode_encodeInput", a.code_encodeInput);
        lib.need("QRcode_free", a.code_free);
    });
    return table_of(loaded);
}

}  // namespace shcx::detail
