// The share server's handler pool (server.cpp): runs Api::handle off the I/O threads,
// with a bounded queue that refuses (503) instead of growing. Private to lib/shcx/share.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace shcx::share {

// Runs handlers off the I/O threads; a full queue refuses instead of growing.
class WorkerPool {
public:
    bool try_post(std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_stopping || m_queue.size() >= m_capacity) return false;
            m_queue.push_back(std::move(task));
        }
        m_cv.notify_one();
        return true;
    }
    void start(int threads, size_t capacity) {
        m_capacity = capacity;
        for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { work(); });
    }
    void request_stop() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
    }
    // Handlers running now (not queued ones).
    int running() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_running;
    }
    // Running handlers finish; queued ones are dropped (their connections close).
    void stop_and_join() {
        request_stop();
        for (auto& t : m_threads) t.join();
        m_threads.clear();
        std::deque<std::function<void()>> dropped;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            dropped.swap(m_queue);
        }
    }

private:
    void work() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_cv.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_stopping) return;
                task = std::move(m_queue.front());
                m_queue.pop_front();
                ++m_running;
            }
            task();
            task = nullptr;  // what it held (the connection) goes before the count drops
            std::lock_guard<std::mutex> lock(m_mutex);
            --m_running;
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_queue;
    size_t m_capacity = 0;
    int m_running = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

}  // namespace shcx::share
