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

TEST_CASE("an exception on a helper thread reaches the caller too") {
    auto caller = std::this_thread::get_id();
    std::atomic<int> ran_on_caller{0};
    auto run = [&] {
        parallel_for(1000, 2, [&](size_t) {
            if (std::this_thread::get_id() != caller) throw std::invalid_argument("helper");
            ++ran_on_caller;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    };
    CHECK_THROWS_WITH_AS(run(), "helper", std::invalid_argument);
    CHECK(ran_on_caller < 500);
    // The pool is usable after a failure.
    std::vector<std::atomic<int>> runs(100);
    parallel_for(runs.size(), 2, [&](size_t i) { ++runs[i]; });
    for (auto& r : runs) CHECK(r == 1);
}

// Helpers are kept between calls, so that a run's phases (read, extract, verify) find
// the same threads with their heaps warm.
TEST_CASE("consecutive calls reuse the same helper threads") {
    auto helpers_of = [] {
        auto caller = std::this_thread::get_id();
        std::mutex m;
        std::set<std::thread::id> seen;
        parallel_for(400, 3, [&](size_t) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            std::lock_guard<std::mutex> lock(m);
            if (std::this_thread::get_id() != caller) seen.insert(std::this_thread::get_id());
        });
        return seen;
    };
    auto first = helpers_of();
    auto second = helpers_of();
    CHECK(!first.empty());
    CHECK(first.size() <= 2);
    for (auto id : second) CHECK(first.count(id) == 1);
}

TEST_CASE("nested and concurrent calls each run every index once") {
    constexpr size_t kOuter = 8, kInner = 50;
    std::vector<std::atomic<int>> runs(kOuter * kInner);
    // Nested: an outer worker (a helper among them) calls parallel_for while the pool is
    // busy with the outer call.
    parallel_for(kOuter, 2, [&](size_t o) { parallel_for(kInner, 2, [&](size_t i) { ++runs[o * kInner + i]; }); });
    for (auto& r : runs) CHECK(r == 1);
    // Concurrent: two threads of the caller's own call parallel_for at the same time.
    std::vector<std::atomic<int>> a(2000), b(2000);
    std::thread other([&] { parallel_for(b.size(), 2, [&](size_t i) { ++b[i]; }); });
    parallel_for(a.size(), 2, [&](size_t i) { ++a[i]; });
    other.join();
    for (auto& r : a) CHECK(r == 1);
    for (auto& r : b) CHECK(r == 1);
}
