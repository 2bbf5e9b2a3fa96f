#include "shcx/error.h"

#include <array>

namespace shcx {
namespace {

constexpr CodeInfo kCodes[] = {
#define SHCX_ERROR(name, sev, ex, meaning) {ErrorCode::name, #name, Severity::sev, ExitClass::ex, meaning},
#include "shcx/error_codes.def"
#undef SHCX_ERROR
};

// info() indexes kCodes by the enum value: both come from error_codes.def in one order.
constexpr bool in_enum_order() {
    for (size_t i = 0; i < std::size(kCodes); ++i)
        if (static_cast<size_t>(kCodes[i].code) != i) return false;
    return true;
}
static_assert(in_enum_order());

}  // namespace

std::span<const CodeInfo> all_codes() { return kCodes; }

const CodeInfo& info(ErrorCode code) {
    auto i = static_cast<size_t>(code);
    return kCodes[i < std::size(kCodes) ? i : static_cast<size_t>(ErrorCode::INTERNAL)];
}

}  // namespace shcx
