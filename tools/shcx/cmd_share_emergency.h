// `shcx share create --emergency`, `share reveal` of an emergency link, `share rotate`,
// `share resume` and the emergency part of `share status` (docs/emergency.md).
// cmd_share.cpp parses the shared options and calls these.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "shcx/secure.h"
#include "shcx/share/service.h"

namespace shcx::cli {

struct EmergencyOptions {
    std::string emergency_file, full_file;  // create, rotate
    std::string tier;                       // reveal: "emergency" or "full" ("" = full)
    bool break_glass = false;
    std::string attest;
};

struct EmergencyCreateArgs {
    std::string public_url, ttl, label, qr;
    bool ttl_given = false, json = false;
    std::string notify_url;  // --notify-url: the owner's break-glass webhook
};

// Where the owner's commands act: a local store (--db) or the HTTP API (--server with a
// token). The tiers are sealed on this machine either way.
struct EmergencyOwner {
    share::Service* local = nullptr;
    std::string server, token;
};

// Creates the share and prints URL, PIN, ID (and writes the QR).
int run_emergency_create(const EmergencyOwner& owner, const EmergencyOptions& o, const EmergencyCreateArgs& a);

// `share events ID`: where the share's status JSON (with "emergency") comes from: the
// local store or the HTTP API. Returns the parsed status, or the error to print.
using StatusSource = std::function<Result<std::string>()>;
struct EventsArgs {
    bool follow = false, json = false, ndjson = false;
    double poll_s = 1;
};
// Prints the access log (lines, NDJSON, or one JSON document); with follow, then polls
// and prints only new events until the share dies (exit 0, the reason on stderr) or
// SIGINT/SIGTERM (exit 0).
int run_emergency_events(const std::string& id, const StatusSource& source, const EventsArgs& a);

// `share rotate ID`: a new emergency share with the same label and expiry, then the old
// one revoked; prints like create.
int run_emergency_rotate(const EmergencyOwner& owner, const std::string& id, const EmergencyOptions& o,
                         const EmergencyCreateArgs& a);
// `share resume ID`: break glass works again at once on a live emergency share.
int run_emergency_resume(const EmergencyOwner& owner, const std::string& id);
// Reads an emergency link; `pin` is asked for only for the full tier without break glass.
int run_emergency_reveal(const std::string& link_text, const EmergencyOptions& o,
                         const std::function<SecretString()>& read_pin, const std::string& out);

}  // namespace shcx::cli
