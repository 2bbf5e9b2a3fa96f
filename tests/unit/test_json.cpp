// lib/shcx/detail/json: bounded parsing and accessors that never throw.
#include <doctest/doctest.h>

#include "shcx/detail/json.h"

using namespace shcx;

TEST_CASE("nesting depth is counted outside strings only") {
    CHECK(detail::json_depth_ok("[[[]]]", 3));
    CHECK_FALSE(detail::json_depth_ok("[[[[]]]]", 3));
    CHECK(detail::json_depth_ok(R"({"a":"[[[[[[[["})", 1));
    CHECK(detail::json_depth_ok(R"({"a":"\"[[[["})", 1));  // an escaped quote does not end the string
    CHECK_FALSE(detail::json_depth_ok(R"({"a":[{"b":[]}]})", 3));
}

TEST_CASE("parse_json: nullopt for invalid or too deep text, never an exception") {
    CHECK(detail::parse_json(R"({"a":1})").has_value());
    CHECK_FALSE(detail::parse_json("{").has_value());
    CHECK_FALSE(detail::parse_json("").has_value());
    CHECK_FALSE(detail::parse_json("\"\xff\xfe\"").has_value());  // not UTF-8
    CHECK_FALSE(detail::parse_json(std::string(100, '[') + std::string(100, ']')).has_value());
    auto ordered = detail::parse_json(R"({"z":1,"a":2})");
    CHECK(ordered->dump() == R"({"z":1,"a":2})");  // member order kept
}

TEST_CASE("member accessors: absent or other types are nullptr / nullopt") {
    auto j = *detail::parse_json(R"({"s":"x","n":5,"f":2.0,"h":2.5,"q":"12","bad":"12a","e":"","b":true,"neg":"-3"})");
    CHECK(detail::string_member(j, "s") == "x");
    CHECK_FALSE(detail::string_member(j, "n").has_value());
    CHECK_FALSE(detail::string_member(j, "missing").has_value());
    CHECK(detail::member(j, "n")->get<int>() == 5);
    CHECK(detail::member(j, "missing") == nullptr);
    CHECK(detail::integer_member(j, "n") == 5L);
    CHECK(detail::integer_member(j, "f") == 2L);
    CHECK_FALSE(detail::integer_member(j, "h").has_value());
    CHECK(detail::integer_member(j, "q") == 12L);
    CHECK(detail::integer_member(j, "neg") == -3L);
    CHECK_FALSE(detail::integer_member(j, "bad").has_value());
    CHECK_FALSE(detail::integer_member(j, "e").has_value());
    CHECK_FALSE(detail::integer_member(j, "b").has_value());
    auto arr = *detail::parse_json("[1]");
    CHECK(detail::member(arr, "x") == nullptr);  // not an object
}
