// Internal to detail/json.cpp and detail/json_view.cpp: what both build on simdjson's
// tape (the DOM builder of the fast path, and the per-thread parser). Includes simdjson
// and nlohmann/json: only those two .cpp files include this header.
#pragma once

#include <openssl/crypto.h>

#include <simdjson.h>
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "shcx/detail/json.h"
#include "shcx/secure.h"

namespace shcx::detail {

// The fast path: simdjson validates the whole text in one pass (RFC 8259 grammar, UTF-8,
// escapes, unescaped control characters, content after the value) and the DOM is built
// from its tape, without nlohmann's byte-at-a-time lexer. Anything it does not accept
// outright, or that breaks one of our own rules (depth, a duplicate member), goes to the
// exact path below, which gives the reason; so the fast path can only be stricter, and
// builds the same Json (tests/unit/test_strict_json.cpp compares the two).
class FastBuilder {
public:
    // may_have_minus_zero: the text contains "-0", which nlohmann reads as a signed 0 and
    // simdjson as plain 0: such a 0 is left to the exact path.
    FastBuilder(int max_depth, bool may_have_minus_zero) : m_max_depth(max_depth), m_minus_zero(may_have_minus_zero) {}

    bool build(simdjson::dom::element e, Json& out, int depth) {
        using simdjson::dom::element_type;
        switch (e.type()) {
            case element_type::ARRAY: {
                if (depth >= m_max_depth) return false;
                simdjson::dom::array arr = e.get_array().value_unsafe();
                out = Json::array();
                auto& items = out.get_ref<Json::array_t&>();
                items.reserve(arr.size());
                for (simdjson::dom::element v : arr) {
                    items.emplace_back();
                    if (!build(v, items.back(), depth + 1)) return false;
                }
                return true;
            }
            case element_type::OBJECT: {
                if (depth >= m_max_depth) return false;
                simdjson::dom::object obj = e.get_object().value_unsafe();
                out = Json::object();
                // ordered_json's object is a vector of members: append in order; the
                // duplicate check is ours.
                auto& members = static_cast<Json::object_t::Container&>(out.get_ref<Json::object_t&>());
                size_t n = obj.size();
                members.reserve(n);
                std::unordered_set<std::string_view> many;
                if (n > kLinearKeys) many.reserve(n);
                for (simdjson::dom::key_value_pair kv : obj) {
                    if (n > kLinearKeys) {
                        if (!many.insert(kv.key).second) return false;
                    } else {
                        for (const auto& m : members)
                            if (m.first == kv.key) return false;
                    }
                    members.emplace_back(std::string(kv.key), nullptr);
                    if (!build(kv.value, members.back().second, depth + 1)) return false;
                }
                return true;
            }
            case element_type::STRING: out = std::string(e.get_string().value_unsafe()); return true;
            // nlohmann reads a non-negative integer as unsigned, a negative one as signed.
            case element_type::INT64: {
                int64_t v = e.get_int64().value_unsafe();
                if (v == 0 && m_minus_zero) return false;
                if (v >= 0) out = static_cast<Json::number_unsigned_t>(v);
                else out = static_cast<Json::number_integer_t>(v);
                return true;
            }
            case element_type::UINT64:
                out = static_cast<Json::number_unsigned_t>(e.get_uint64().value_unsafe());
                return true;
            case element_type::DOUBLE: out = e.get_double().value_unsafe(); return true;
            case element_type::BOOL: out = e.get_bool().value_unsafe(); return true;
            case element_type::NULL_VALUE: out = nullptr; return true;
        }
        return false;
    }

private:
    static constexpr size_t kLinearKeys = 32;
    int m_max_depth;
    bool m_minus_zero;
};

// One parser per thread: it keeps its buffers from one document to the next. Texts can
// hold secrets (a private JWK, a PIN), so the copies it keeps are wiped after each parse:
// the padded input, and the strings simdjson unescaped (at most 5/3 of the input, by the
// way simdjson sizes that buffer).
struct ThreadParser {
    simdjson::dom::parser parser;
    std::string input;  // the text plus simdjson's padding

    ~ThreadParser() { secure_wipe(input); }
    void wipe(size_t n) {
        OPENSSL_cleanse(input.data(), n);
        if (parser.doc.string_buf)
            OPENSSL_cleanse(parser.doc.string_buf.get(),
                            std::min(5 * n / 3 + simdjson::SIMDJSON_PADDING, 5 * parser.doc.capacity() / 3));
    }
};

}  // namespace shcx::detail
