// Share server load: creates per second, single-client reveal latency (median, p99) and
// reveals per second under C concurrent clients, over real HTTP against a running
// `shcx share serve`. Usage: shcx_share_bench URL[,URL...] TOKEN [N] [CLIENTS]
// With several URLs (instances on one database) shares are created on the first and
// the concurrent reveals are spread round-robin over all of them.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "shcx/share/crypto.h"

using Clock = std::chrono::steady_clock;
struct Share {
    std::string path, pin;
};

static double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s URL[,URL...] TOKEN [N] [CLIENTS]\n", argv[0]);
        return 2;
    }
    std::vector<std::string> urls;
    for (std::string rest = argv[1];;) {
        auto comma = rest.find(',');
        urls.push_back(rest.substr(0, comma));
        if (comma == std::string::npos) break;
        rest = rest.substr(comma + 1);
    }
    std::string url = urls.front(), token = argv[2];
    int n = argc > 3 ? std::atoi(argv[3]) : 200;
    int clients = argc > 4 ? std::atoi(argv[4]) : 32;
    std::string body(1200, 'x');  // about one encrypted card
    httplib::Headers auth{{"Authorization", "Bearer " + token}};

    auto create_many = [&](int count, int threads) {
        std::vector<Share> out(static_cast<size_t>(count));
        std::atomic<int> next{0}, failed{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                httplib::Client c(url);
                c.set_read_timeout(60);
                for (int i; (i = next++) < count;) {
                    auto r = c.Post("/api/v1/shares?reveals=1&ttl=3600", auth, body, "application/jose");
                    if (!r || r->status != 201) {
                        ++failed;
                        continue;
                    }
                    auto j = nlohmann::json::parse(r->body);
                    std::string u = j["url"];
                    out[static_cast<size_t>(i)] = {u.substr(u.find("/s/")), j["challenge"]};
                }
            });
        for (auto& t : pool) t.join();
        if (failed) std::fprintf(stderr, "%d creates failed\n", failed.load());
        return out;
    };

    auto t0 = Clock::now();
    auto single = create_many(n, 1);
    double create_s = ms_since(t0) / 1000;
    std::printf("creates/s (1 client, %d shares):            %8.1f\n", n, n / create_s);
    auto concurrent = create_many(n * 2, clients);

    // Single client: one reveal at a time, each of a different share.
    std::vector<double> lat;
    httplib::Client c(url);
    for (const auto& s : single) {
        auto t = Clock::now();
        auto r = c.Post(s.path.c_str(), "{\"challenge\":\"" + s.pin + "\"}", "application/json");
        if (r && r->status == 200) lat.push_back(ms_since(t));
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
    };
    std::printf("reveal latency, 1 client: median %6.1f ms, p99 %6.1f ms (%zu reveals)\n", pct(0.5), pct(0.99),
                lat.size());

    std::atomic<int> next{0}, ok{0};
    std::vector<double> clat(concurrent.size(), -1);
    auto t1 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < clients; ++t)
        pool.emplace_back([&, t] {
            httplib::Client cc(urls[static_cast<size_t>(t) % urls.size()]);
            cc.set_read_timeout(60);
            for (int i; (i = next++) < static_cast<int>(concurrent.size());) {
                const auto& s = concurrent[static_cast<size_t>(i)];
                auto t = Clock::now();
                auto r = cc.Post(s.path.c_str(), "{\"challenge\":\"" + s.pin + "\"}", "application/json");
                if (r && r->status == 200) {
                    clat[static_cast<size_t>(i)] = ms_since(t);
                    ++ok;
                }
            }
        });
    for (auto& t : pool) t.join();
    double secs = ms_since(t1) / 1000;
    clat.erase(std::remove(clat.begin(), clat.end(), -1.0), clat.end());
    std::sort(clat.begin(), clat.end());
    auto cpct = [&](double p) {
        return clat.empty() ? 0.0 : clat[std::min(clat.size() - 1, static_cast<size_t>(p * clat.size()))];
    };
    std::printf("reveal latency, %d clients: median %6.1f ms, p99 %6.1f ms\n", clients, cpct(0.5), cpct(0.99));
    std::printf("reveals/s, %d concurrent clients, %zu instance%s: %8.1f (%d of %zu revealed)\n", clients, urls.size(),
                urls.size() == 1 ? " " : "s", ok / secs, ok.load(), concurrent.size());
    // The KDF alone, at the server's default cost: the floor under every reveal.
    std::vector<double> kdf;
    for (int i = 0; i < 25; ++i) {
        auto t = Clock::now();
        (void)shcx::share::argon2id("ABCD1234", "0123456789abcdef", shcx::share::KdfParams{});
        if (i >= 5) kdf.push_back(ms_since(t));  // the first few fault in fresh memory
    }
    std::sort(kdf.begin(), kdf.end());
    std::printf("Argon2id alone (t=2, m=19 MiB), median:     %8.1f ms\n", kdf[kdf.size() / 2]);

    return ok == static_cast<int>(concurrent.size()) && lat.size() == single.size() ? 0 : 1;
}
