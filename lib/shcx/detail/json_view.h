// Internal: read-only views of a strictly parsed JSON text, straight from simdjson's tape,
// for the per-card hot path (a card payload is read once and never changed: building a
// DOM of hundreds of small nodes for it, and freeing them, cost more than reading it).
// The text is checked exactly as parse_json_checked checks it (detail/json.h); a text
// that fails gets the same reason. Includes simdjson: only .cpp files include this header.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "shcx/detail/json.h"

namespace shcx::detail {

// One value of a parsed text, or none (a member that is absent): every accessor answers
// "absent / not that type" on none, so lookups chain without checks in between.
class JsonView {
public:
    JsonView() = default;
    explicit JsonView(simdjson::dom::element e) : m_element(e), m_valid(true) {}

    explicit operator bool() const { return m_valid; }
    bool is_object() const { return m_valid && m_element.is_object(); }
    bool is_array() const { return m_valid && m_element.is_array(); }
    bool is_string() const { return m_valid && m_element.is_string(); }
    bool is_number() const { return m_valid && m_element.is_number(); }

    // The member `key` of an object; none when absent or when this is not an object.
    JsonView member(const char* key) const;
    // The first item of a non-empty array; none otherwise.
    JsonView first() const;
    // f(item) for each item of an array, in order; nothing when this is not one.
    template <class F>
    void each(F f) const {
        simdjson::dom::array items;
        if (!m_valid || m_element.get_array().get(items) != simdjson::SUCCESS) return;
        for (simdjson::dom::element e : items) f(JsonView(e));
    }
    // The string itself; nullopt when this is not a string.
    std::optional<std::string_view> string() const;
    std::optional<std::string> string_member(const char* key) const;
    // A number as a double (integers converted); only when is_number().
    double number() const;
    // The value serialised as nlohmann's dump() serialises it (e.g. a number in a summary).
    std::string dump() const;

private:
    friend class ParsedView;
    simdjson::dom::element m_element;
    bool m_valid = false;
};

// A parsed text and its root. The views it hands out are valid while it lives. It holds
// the calling thread's parser, whose copies of the text it wipes when it goes (texts can
// hold secrets); a second one alive on the same thread gets a parser of its own.
class ParsedView {
public:
    ParsedView(std::string_view text, int max_depth);
    ~ParsedView();
    ParsedView(const ParsedView&) = delete;
    ParsedView& operator=(const ParsedView&) = delete;

    // Set when the text is not strict JSON (as parse_json_checked words it).
    const std::optional<std::string>& error() const { return m_error; }
    JsonView root() const { return m_root; }

    struct Parser;  // a simdjson parser and its padded copy of the text (json.cpp)

private:
    Parser* m_parser = nullptr;
    bool m_own = false;  // m_parser is this object's, not the thread's
    size_t m_size = 0;   // of the text the parser holds, for the wipe
    JsonView m_root;
    std::optional<std::string> m_error;
};

}  // namespace shcx::detail
