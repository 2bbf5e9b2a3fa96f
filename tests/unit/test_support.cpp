// The test helpers' own promises: a child that outlives its deadline is killed and
// reported instead of hanging the suite; exit codes and signals come back as documented.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

#include "support.h"

using namespace shcx;

TEST_CASE("run_program kills a child that runs past its deadline and says so") {
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(test::run_program({"sleep", "60"}, "", std::chrono::seconds(1)),
                         "sleep did not finish within 1 s and was killed; stderr: ", std::runtime_error);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("run_program returns exit codes, 128+N for a signal, and the output") {
    auto ok = test::run_program({"sh", "-c", "cat; echo err >&2; exit 3"}, "in\n");
    CHECK(ok.code == 3);
    CHECK(ok.out == "in\n");
    CHECK(ok.err == "err\n");
    CHECK(test::run_program({"sh", "-c", "kill -TERM $$"}).code == 128 + 15);
}
