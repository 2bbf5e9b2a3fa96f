#include "shcx/detail/json.h"

#include <charconv>

namespace shcx::detail {

bool json_depth_ok(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > max_depth) return false;
        } else if (c == '}' || c == ']') --depth;
    }
    return true;
}

std::optional<Json> parse_json(std::string_view text, int max_depth) {
    if (!json_depth_ok(text, max_depth)) return std::nullopt;
    auto j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

const Json* member(const Json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::optional<std::string> string_member(const Json& obj, const char* key) {
    const auto* m = member(obj, key);
    if (!m || !m->is_string()) return std::nullopt;
    return m->get<std::string>();
}

std::optional<long> integer_member(const Json& obj, const char* key) {
    const auto* m = member(obj, key);
    if (!m) return std::nullopt;
    if (m->is_number_integer()) return m->get<long>();
    if (m->is_number_float()) {
        double d = m->get<double>();
        if (d == static_cast<double>(static_cast<long>(d))) return static_cast<long>(d);
        return std::nullopt;
    }
    if (m->is_string()) {
        const auto& s = m->get_ref<const std::string&>();
        long v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return v;
    }
    return std::nullopt;
}

}  // namespace shcx::detail
