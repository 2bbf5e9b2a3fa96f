// The share server's request handling (paths, query, form and JSON bodies, tokens)
// through the transport-independent Api over a real SQLite store.
// Input: METHOD-byte, then "\n"-separated path, content type, authorization, body.
// "{sid}", "{pin}", "{id}" and "{token}" are replaced by a live share's values, so the
// fuzzer reaches the reveal and owner paths.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "shcx/share/api.h"

namespace {
struct Fixed final : shcx::share::Clock {
    double now() const override { return 1800000000.0; }
};
struct World {
    std::string dir = std::filesystem::temp_directory_path() / ("shcx-fuzz-" + std::to_string(getpid()));
    std::unique_ptr<shcx::share::Store> store;
    Fixed clock;
    std::unique_ptr<shcx::share::Service> service;
    std::unique_ptr<shcx::share::Api> api;
    std::string sid, pin, id, token;
    World() {
        std::filesystem::create_directories(dir);
        store = shcx::share::open_sqlite_store(dir + "/fuzz.db").value();
        shcx::share::ServiceConfig cfg;
        cfg.pepper = std::string(32, 'k');
        cfg.kdf = {1, 8, 1};
        cfg.creates_per_minute = 1 << 30;
        service = std::make_unique<shcx::share::Service>(*store, clock, cfg);
        api = std::make_unique<shcx::share::Api>(*service, clock, "https://share.example", 1 << 30);
        token = service->add_user("fuzz").value().str();
        refresh();
    }
    void refresh() {
        auto c = service->create(service->local_user(), "jwe", 100, 3600).value();
        sid = c.sid;
        pin = c.pin.str();
        id = c.id;
    }
    ~World() { std::filesystem::remove_all(dir); }
};

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    if (size == 0) return 0;
    static const char* methods[] = {"GET", "POST", "DELETE", "PUT"};
    shcx::share::HttpRequest req;
    req.method = methods[data[0] % 4];
    std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"{sid}", world.sid},
                                   {"{pin}", world.pin},
                                   {"{id}", world.id},
                                   {"{token}", world.token}})
        replace_all(rest, from, to);
    std::string* fields[] = {&req.path, &req.content_type, &req.authorization, &req.body};
    size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
        size_t nl = i < 3 ? rest.find('\n', pos) : std::string::npos;
        if (nl == std::string::npos) nl = rest.size();
        *fields[i] = rest.substr(std::min(pos, rest.size()), nl - std::min(pos, rest.size()));
        pos = nl + 1;
    }
    if (auto q = req.path.find('?'); q != std::string::npos) {
        std::string query = req.path.substr(q + 1);
        req.path.resize(q);
        for (size_t p = 0; p <= query.size();) {
            size_t amp = query.find('&', p);
            if (amp == std::string::npos) amp = query.size();
            std::string kv = query.substr(p, amp - p);
            auto eq = kv.find('=');
            req.query.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
            p = amp + 1;
        }
    }
    req.remote_addr = "127.0.0.1";
    auto res = world.api->handle(req);
    if (res.status < 200 || res.status > 599) __builtin_trap();
    // Keep a live share around for the next input.
    if (!world.service->is_live(world.sid)) world.refresh();
    return 0;
}
