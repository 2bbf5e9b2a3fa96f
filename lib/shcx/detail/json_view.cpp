#include "shcx/detail/json_view.h"

#include <unordered_set>

#include "shcx/detail/json_tape.h"

namespace shcx::detail {

namespace {
// The rules simdjson does not check, on the parsed tree: depth and duplicate members
// (FastBuilder checks the same while it builds).
bool strict_tree(simdjson::dom::element e, int depth, int max_depth) {
    simdjson::dom::array arr;
    if (e.get_array().get(arr) == simdjson::SUCCESS) {
        if (depth >= max_depth) return false;
        for (simdjson::dom::element v : arr)
            if (!strict_tree(v, depth + 1, max_depth)) return false;
        return true;
    }
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return true;
    if (depth >= max_depth) return false;
    constexpr size_t kLinearKeys = 32;
    size_t n = obj.size();
    std::unordered_set<std::string_view> many;
    if (n > kLinearKeys) many.reserve(n);
    size_t index = 0;
    for (auto it = obj.begin(); it != obj.end(); ++it, ++index) {
        std::string_view key = it.key();
        if (n > kLinearKeys) {
            if (!many.insert(key).second) return false;
        } else {
            size_t before = 0;
            for (auto other = obj.begin(); before < index; ++other, ++before)
                if (other.key() == key) return false;
        }
        if (!strict_tree(it.value(), depth + 1, max_depth)) return false;
    }
    return true;
}
}  // namespace

struct ParsedView::Parser : ThreadParser {};

namespace {
thread_local ParsedView::Parser t_view_parser;
thread_local bool t_view_parser_in_use = false;
}  // namespace

ParsedView::ParsedView(std::string_view text, int max_depth) {
    if (t_view_parser_in_use) {
        m_parser = new Parser;
        m_own = true;
    } else {
        m_parser = &t_view_parser;
        t_view_parser_in_use = true;
    }
    auto parse = [&](std::string_view t) {
        if (m_parser->input.size() < t.size() + simdjson::SIMDJSON_PADDING)
            m_parser->input.resize(t.size() + simdjson::SIMDJSON_PADDING);
        std::memcpy(m_parser->input.data(), t.data(), t.size());
        m_size = std::max(m_size, t.size());
        simdjson::dom::element root;
        if (m_parser->parser.parse(m_parser->input.data(), t.size(), /*realloc_if_needed=*/false).get(root) !=
            simdjson::SUCCESS)
            return false;
        m_root = JsonView(root);
        return true;
    };
    // A view sees numbers as doubles and dumps them through FastBuilder, so "-0" (an
    // integer 0 to both parsers) needs no detour here; only nlohmann's type for it differs.
    if (parse(text) && strict_tree(m_root.m_element, 0, max_depth)) return;
    // Not accepted outright: the exact parser gives the reason, or reads what simdjson
    // will not (a number outside a double's range).
    m_root = JsonView();
    Parsed exact = parse_json_exact(text, max_depth);
    if (!exact.value) {
        m_error = exact.error;
        return;
    }
    // Numbers outside a double's range are the one thing nlohmann reads (as infinity)
    // and serialises as null: the view then sees null, which every rule refuses too.
    std::string canonical = exact.value->dump();
    if (!parse(canonical)) m_error = "invalid JSON";
    secure_wipe(canonical);
}

ParsedView::~ParsedView() {
    m_parser->wipe(m_size);
    if (m_own) delete m_parser;
    else t_view_parser_in_use = false;
}

JsonView JsonView::member(const char* key) const {
    simdjson::dom::object obj;
    simdjson::dom::element v;
    if (!m_valid || m_element.get_object().get(obj) != simdjson::SUCCESS || obj.at_key(key).get(v) != simdjson::SUCCESS)
        return {};
    return JsonView(v);
}

JsonView JsonView::first() const {
    simdjson::dom::array arr;
    if (!m_valid || m_element.get_array().get(arr) != simdjson::SUCCESS || arr.begin() == arr.end()) return {};
    return JsonView(*arr.begin());
}

std::optional<std::string_view> JsonView::string() const {
    std::string_view s;
    if (!m_valid || m_element.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
    return s;
}

std::optional<std::string> JsonView::string_member(const char* key) const {
    auto s = member(key).string();
    if (!s) return std::nullopt;
    return std::string(*s);
}

double JsonView::number() const {
    double d = 0;
    if (m_valid && m_element.get_double().get(d) != simdjson::SUCCESS) d = 0;
    return d;
}

std::string JsonView::dump() const {
    if (!m_valid) return "";
    Json j;
    FastBuilder builder(kMaxJsonDepth, /*may_have_minus_zero=*/false);
    if (!builder.build(m_element, j, 0)) return "";
    return j.dump();
}

}  // namespace shcx::detail
