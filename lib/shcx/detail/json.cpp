#include "shcx/detail/json.h"
#include "shcx/detail/json_tape.h"

#include <openssl/crypto.h>

#include <simdjson.h>
#include <charconv>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "shcx/secure.h"

namespace shcx::detail {
namespace {

// nlohmann's own DOM builder, plus what it does not check: a member name given twice in
// one object. Keys of the open objects are kept in one stack; an object with many keys
// gets a hash set so that hostile input cannot make the check quadratic.
class StrictSax {
public:
    using number_integer_t = Json::number_integer_t;
    using number_unsigned_t = Json::number_unsigned_t;
    using number_float_t = Json::number_float_t;
    using string_t = Json::string_t;
    using binary_t = Json::binary_t;

    explicit StrictSax(Json& root) : m_dom(root, /*allow_exceptions=*/false) {}

    bool null() { return m_dom.null(); }
    bool boolean(bool v) { return m_dom.boolean(v); }
    bool number_integer(number_integer_t v) { return m_dom.number_integer(v); }
    bool number_unsigned(number_unsigned_t v) { return m_dom.number_unsigned(v); }
    bool number_float(number_float_t v, const string_t& s) { return m_dom.number_float(v, s); }
    bool string(string_t& v) { return m_dom.string(v); }
    bool binary(binary_t& v) { return m_dom.binary(v); }
    bool start_array(std::size_t n) { return m_dom.start_array(n); }
    bool end_array() { return m_dom.end_array(); }

    bool start_object(std::size_t n) {
        m_levels.push_back({m_keys.size(), nullptr});
        return m_dom.start_object(n);
    }
    bool key(string_t& k) {
        Level& level = m_levels.back();
        bool seen = false;
        if (level.many) {
            seen = !level.many->insert(k).second;
        } else {
            for (size_t i = level.start; i < m_keys.size() && !seen; ++i) seen = m_keys[i] == k;
            if (!seen) m_keys.push_back(k);
            if (m_keys.size() - level.start > kLinearKeys) {
                level.many = std::make_unique<std::unordered_set<std::string>>(
                    m_keys.begin() + static_cast<long>(level.start), m_keys.end());
                m_keys.resize(level.start);
            }
        }
        if (seen) {
            m_error = "duplicate member \"" + k + "\"";
            return false;
        }
        return m_dom.key(k);
    }
    bool end_object() {
        m_keys.resize(m_levels.back().start);
        m_levels.pop_back();
        return m_dom.end_object();
    }

    template <class Exception>
    bool parse_error(std::size_t position, const std::string&, const Exception& ex) {
        // nlohmann's message ends with the bytes last read, which may be invalid UTF-8:
        // keep only its ASCII description, e.g. "invalid string: ill-formed UTF-8 byte".
        std::string what = ex.what();
        if (auto dash = what.find(": syntax error while parsing "); dash != std::string::npos)
            what = what.substr(dash + 2);
        if (auto last = what.find("; last read"); last != std::string::npos) what.resize(last);
        for (char& c : what)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
        m_error = "at byte " + std::to_string(position) + ": " + what;
        return false;
    }

    const std::string& error() const { return m_error; }

private:
    static constexpr size_t kLinearKeys = 32;
    struct Level {
        size_t start;
        std::unique_ptr<std::unordered_set<std::string>> many;
    };
    nlohmann::detail::json_sax_dom_parser<Json> m_dom;
    std::vector<std::string> m_keys;
    std::vector<Level> m_levels;
    std::string m_error;
};

std::optional<Json> parse_fast(std::string_view text, int max_depth) {
    thread_local ThreadParser t;
    if (t.input.size() < text.size() + simdjson::SIMDJSON_PADDING)
        t.input.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(t.input.data(), text.data(), text.size());
    std::optional<Json> out;
    simdjson::dom::element root;
    if (t.parser.parse(t.input.data(), text.size(), /*realloc_if_needed=*/false).get(root) == simdjson::SUCCESS) {
        out.emplace();
        FastBuilder builder(max_depth, text.find("-0") != std::string_view::npos);
        if (!builder.build(root, *out, 0)) out.reset();
    }
    t.wipe(text.size());
    return out;
}
}  // namespace

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

Parsed parse_json_checked(std::string_view text, int max_depth) {
    Parsed out;
    if (auto fast = parse_fast(text, max_depth)) {
        out.value = std::move(fast);
        return out;
    }
    return parse_json_exact(text, max_depth);
}

Parsed parse_json_exact(std::string_view text, int max_depth) {
    Parsed out;
    if (const void* nul = std::memchr(text.data(), 0, text.size())) {
        out.error = "NUL byte at offset " + std::to_string(static_cast<const char*>(nul) - text.data());
        return out;
    }
    if (!json_depth_ok(text, max_depth)) {
        out.error = "nested deeper than " + std::to_string(max_depth) + " levels";
        return out;
    }
    Json j;
    StrictSax sax(j);
    bool ok = false;
    try {
        ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
    } catch (const std::exception&) {
        ok = false;  // not expected with a non-throwing handler; treated as invalid
    }
    if (!ok) {
        out.error = sax.error().empty() ? "invalid JSON" : sax.error();
        return out;
    }
    out.value = std::move(j);
    return out;
}

std::optional<Json> parse_json(std::string_view text, int max_depth) {
    return parse_json_checked(text, max_depth).value;
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
