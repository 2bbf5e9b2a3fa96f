// libqrencode's functions, from libqrencode.so.4 opened on first use
// (detail/shared_library.h): only a process that draws a QR code loads it.
#pragma once

#include <qrencode.h>

#include "shcx/error.h"

namespace shcx::detail {

// Named as in libqrencode without "QR".
struct QrencodeApi {
    decltype(&::QRinput_new2) input_new2 = nullptr;
    decltype(&::QRinput_append) input_append = nullptr;
    decltype(&::QRinput_free) input_free = nullptr;
    decltype(&::QRcode_encodeInput) code_encodeInput = nullptr;
    decltype(&::QRcode_free) code_free = nullptr;
};

// libqrencode, loaded once per process (thread-safe). INTERNAL when it cannot be loaded;
// the message names the library.
Result<const QrencodeApi*> qrencode_api();

}  // namespace shcx::detail
