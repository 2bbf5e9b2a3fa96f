// Text and JSON renderings of a card, shared by decode and verify. Only the
// nlohmann forward declarations here: the heavy header stays in render.cpp and cmd_*.cpp.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "shcx/card/card.h"
#include "shcx/card/decode.h"
#include "shcx/error.h"
#include "shcx/read/input.h"

namespace shcx::render {

using Json = nlohmann::ordered_json;

// "2024-05-07T18:49:23Z", or "never"/"none" text when absent.
std::string date_or(std::optional<double> t, const std::string& absent);

// "from a.png, b.png (QR image, 3 chunks)".
std::string origin_text(const input::FoundCard& found);

// Issuer, kid, dates, types, rid, then every person with immunizations and results.
// Lines are indented by `indent` spaces.
std::string card_text(const decode::DecodedCard& decoded, int indent = 2);
std::string people_text(const std::vector<card::Person>& people, int indent = 2);

Json people_json(const std::vector<card::Person>& people);
Json error_json(const Error& e);
Json errors_json(const std::vector<Error>& errors);
// [{input, code, message}] for inputs that held no card.
Json input_errors_json(const std::vector<input::InputError>& errors);
// The card fields of docs/cli.md's per-card result: iss, kid, nbf, exp, rid, types, people.
Json card_fields_json(const decode::DecodedCard& decoded);
Json origins_json(const input::FoundCard& found);

// The part of a result that decode and verify share (docs/json/decode.schema.json):
// input (the first origin), inputs, form, chunks, header, issuer {iss}, card {kid, nbf,
// exp, rid, types}, people, payload. `card` is null when the JWS could not be decoded;
// `chunks` 0 when unknown.
Json card_result_json(const std::vector<std::string>& origins, input::Kind kind, int chunks,
                      const decode::DecodedCard* card);

}  // namespace shcx::render
