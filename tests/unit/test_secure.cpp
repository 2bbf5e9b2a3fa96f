#include <doctest/doctest.h>

#include "shcx/secure.h"

using namespace shcx;

TEST_CASE("secure_wipe zeroes the bytes in place, then empties the string") {
    std::string s(64, 'k');
    const char* data = s.data();
    secure_wipe(s);
    CHECK(s.empty());
    CHECK(s.data() == data);  // same buffer, no reallocation that would leave a copy
    for (size_t i = 0; i < 64; ++i) CHECK(data[i] == '\0');
    std::string empty;
    secure_wipe(empty);
    CHECK(empty.empty());
}

TEST_CASE("SecretString moves leave nothing behind in the source") {
    SecretString a(std::string(40, 's'));
    SecretString b(std::move(a));
    CHECK(b.str() == std::string(40, 's'));
    CHECK(a.str().empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    SecretString c(std::string("old"));
    c = std::move(b);
    CHECK(c.str() == std::string(40, 's'));
    CHECK(b.str().empty());  // NOLINT(bugprone-use-after-move)
}
