#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

int main(int argc, char** argv) {
    // No test may read or write the user's real trust store: point the default at a path
    // that does not exist (tests that need a store pass --store). Verify must not create it.
    setenv("SHCX_TRUST", "/nonexistent/shcx-test-trust-store", 1);
    unsetenv("XDG_DATA_HOME");
    doctest::Context context(argc, argv);
    return context.run();
}
