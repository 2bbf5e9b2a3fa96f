#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "shcx/parallel.h"

using namespace shcx;

TEST_CASE("parallel_for runs every index exactly once, on any number of threads") {
    for (int jobs : {-3, 0, 1, 2, 8}) {
        for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}}) {
            CAPTURE(jobs);
            CAPTURE(n);
            std::vector<std::atomic<int>> runs(n);
            parallel_for(n, jobs, [&](size_t i) { ++runs[i]; });
            for (size_t i = 0; i < n; ++i) CHECK(runs[i] == 1);
        }
    }
}

TEST_CASE("one job runs inline on the calling thread, more use other threads") {
    auto caller = std::this_thread::get_id();
    bool all_inline = true;
    parallel_for(5, 1, [&](size_t) { all_inline &= std::this_thread::get_id() == caller; });
    CHECK(all_inline);
    std::atomic<int> elsewhere{0};
    parallel_for(50, 2, [&](size_t) { elsewhere += std::this_thread::get_id() != caller; });
    CHECK(elsewhere == 50);  // workers do all the work; the caller only waits
}
