// Runs fn(i) for every i in [0, n) on up to `jobs` threads (inline when one will do).
// Each index runs exactly once; callers write results into slot i to keep input order.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace shcx {

template <class Fn>
void parallel_for(size_t n, int jobs, Fn fn) {
    size_t workers = std::min<size_t>(static_cast<size_t>(std::max(jobs, 1)), n);
    if (workers <= 1) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    // Indexes are claimed in batches: the one shared counter is touched once per batch,
    // not once per item, while small batches still even out a slow or descheduled thread.
    size_t batch = std::clamp<size_t>(n / (workers * 32), 1, 64);
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t start; (start = next.fetch_add(batch, std::memory_order_relaxed)) < n;)
            for (size_t i = start, end = std::min(n, start + batch); i < end; ++i) fn(i);
    };
    // The calling thread is one of the workers: one thread fewer to start, and its heap
    // and caches are already warm.
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
    try {
        work();
    } catch (...) {
        next.store(n, std::memory_order_relaxed);  // the others stop at their next batch
        for (auto& t : pool) t.join();
        throw;
    }
    for (auto& t : pool) t.join();
}

}  // namespace shcx
