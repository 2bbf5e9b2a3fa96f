#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
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
    // With more, the caller is one of the workers: the work is done on it and on at most
    // jobs - 1 other threads (which of them gets how much is a race).
    std::mutex m;
    std::set<std::thread::id> seen;
    std::atomic<int> done{0};
    parallel_for(200, 3, [&](size_t) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        ++done;
        std::lock_guard<std::mutex> lock(m);
        seen.insert(std::this_thread::get_id());
    });
    CHECK(done == 200);
    CHECK(seen.size() <= 3);
    CHECK(seen.count(caller) == 1);
}

TEST_CASE("an exception on the calling thread stops the others and reaches the caller") {
    auto caller = std::this_thread::get_id();
    std::atomic<int> ran_elsewhere{0};
    auto run = [&] {
        parallel_for(1000, 2, [&](size_t) {
            if (std::this_thread::get_id() == caller) throw std::runtime_error("stop");
            ++ran_elsewhere;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    };
    CHECK_THROWS_WITH_AS(run(), "stop", std::runtime_error);
    // The other worker stopped at its next batch instead of running all 1000 (1 ms each).
    CHECK(ran_elsewhere < 500);
}
