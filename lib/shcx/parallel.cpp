#include "shcx/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

namespace shcx::detail {

namespace {

// Starts a thread running fn; false when the system refuses one (the work then runs on
// the threads there are).
template <class Fn>
bool start_thread(std::vector<std::thread>& threads, Fn fn) {
    try {
        threads.emplace_back(std::move(fn));
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

// The helper threads live as long as the process. A thread started anew for each call
// begins with a cold heap: its first allocations fault in fresh pages (2 MiB each in the
// shcx executable), and what one phase of a run allocates on a thread that then exits is
// freed by another. Kept threads make helper k the same thread in every phase of a run
// (reading the files, extracting the cards, verifying them) and reuse its warm heap
// (docs/performance.md, "Design choices").
class HelperPool {
public:
    // False when the pool is already running a call (one from another thread, or
    // parallel_for nested in a helper's work): that caller starts threads of its own.
    bool try_run(size_t helpers, const std::function<void()>& work) {
        std::unique_lock<std::mutex> lock(m_mutex);
        if (m_busy) return false;
        m_busy = true;
        while (m_threads.size() < helpers) {
            size_t k = m_threads.size();
            if (!start_thread(m_threads, [this, k, seen = m_generation] { serve(k, seen); })) break;
        }
        helpers = std::min(helpers, m_threads.size());
        m_task = &work;
        m_wanted = helpers;
        m_pending = helpers;
        ++m_generation;
        lock.unlock();
        m_wake.notify_all();
        work();
        lock.lock();
        m_done.wait(lock, [&] { return m_pending == 0; });
        m_task = nullptr;
        m_busy = false;
        return true;
    }

private:
    void serve(size_t k, uint64_t seen) {
        std::unique_lock<std::mutex> lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [&] { return m_generation != seen && k < m_wanted; });
            seen = m_generation;
            const std::function<void()>* task = m_task;
            lock.unlock();
            (*task)();
            lock.lock();
            if (--m_pending == 0) m_done.notify_one();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::vector<std::thread> m_threads;
    const std::function<void()>* m_task = nullptr;
    uint64_t m_generation = 0;
    size_t m_wanted = 0, m_pending = 0;
    bool m_busy = false;
};

}  // namespace

void run_on_helpers(size_t helpers, const std::function<void()>& work) {
    // Never destroyed: idle helpers wait on the pool until the process ends, and nothing
    // has to stop them first.
    static HelperPool& pool = *new HelperPool;
    if (pool.try_run(helpers, work)) return;
    std::vector<std::thread> threads;
    threads.reserve(helpers);
    while (threads.size() < helpers)
        if (!start_thread(threads, work)) break;
    work();
    for (auto& t : threads) t.join();
}

}  // namespace shcx::detail
