// Runs fn(i) for every i in [0, n) on up to `jobs` threads (inline when one will do).
// Each index runs exactly once; callers write results into slot i to keep input order.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>

namespace shcx {

namespace detail {
// Runs work() on the calling thread and on `helpers` other threads at once, and returns
// when every one of them has returned. The helpers are kept from one call to the next
// (parallel.cpp says why); work must not throw.
void run_on_helpers(size_t helpers, const std::function<void()>& work);
}  // namespace detail

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
    std::exception_ptr failure;
    std::mutex failure_mutex;
    std::function<void()> work = [&] {
        try {
            for (size_t start; (start = next.fetch_add(batch, std::memory_order_relaxed)) < n;)
                for (size_t i = start, end = std::min(n, start + batch); i < end; ++i) fn(i);
        } catch (...) {
            next.store(n, std::memory_order_relaxed);  // the others stop at their next batch
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (!failure) failure = std::current_exception();
        }
    };
    detail::run_on_helpers(workers - 1, work);
    if (failure) std::rethrow_exception(failure);
}

}  // namespace shcx
