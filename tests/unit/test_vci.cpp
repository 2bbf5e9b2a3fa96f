// lib/shcx/trust/vci: the configured sources, mirrors, and the snapshot signature check.
#include <doctest/doctest.h>

#include "shcx/digest.h"
#include "shcx/trust/vci.h"
#include "support.h"

using namespace shcx;

namespace {
std::string vci_file(const std::string& f) { return test::read_file(test::vectors_dir() / "vci" / f); }
const std::string kPin =
    "C3:E4:4E:40:A2:0E:6D:54:A5:AD:24:7E:9D:DD:07:76:37:08:CE:C1:AA:9A:CD:47:A4:08:A3:CC:28:F3:20:FB";
const double kNov2026 = 1795300000;
}  // namespace

TEST_CASE("the VCI snapshot signature verifies against the pinned certificate" * doctest::test_suite("conformance")) {
    auto json = vci_file("vci_snapshot.json"), sig = vci_file("vci_snapshot.sig"), crt = vci_file("vci_snapshot.crt");
    CHECK_FALSE(vci::verify_snapshot(json, sig, crt, kPin, kNov2026).has_value());
    CHECK(vci::sources().front().certificate_sha256 == kPin);  // trust/sources.json carries the same pin

    std::string tampered = json;
    tampered[tampered.size() / 2] ^= 1;
    CHECK(vci::verify_snapshot(tampered, sig, crt, kPin, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    CHECK(vci::verify_snapshot(json + "\n", sig, crt, kPin, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    std::string bad_sig = sig;
    bad_sig[bad_sig.size() - 3] ^= 1;
    CHECK(vci::verify_snapshot(json, bad_sig, crt, kPin, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    auto wrong_pin = vci::verify_snapshot(json, sig, crt, "00:" + kPin.substr(3), kNov2026);
    REQUIRE(wrong_pin.has_value());
    CHECK(test::contains(wrong_pin->message, "fingerprint"));
    // The certificate is valid to 2032-03-14.
    CHECK(vci::verify_snapshot(json, sig, crt, kPin, 2000000000.0 + 86400 * 365)->code ==
          ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    CHECK(vci::verify_snapshot(json, sig, "garbage", kPin, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
}

TEST_CASE("mirror sources keep the pin, unknown names and plain http are refused") {
    auto m = vci::resolve_source("https://mirror.example/vci/");
    REQUIRE(m.ok());
    CHECK(m.value().snapshot_url == "https://mirror.example/vci/vci_snapshot.json");
    CHECK(m.value().certificate_sha256 == kPin);
    CHECK(vci::resolve_source("http://127.0.0.1:8080").ok());
    CHECK(vci::resolve_source("http://mirror.example").error().code == ErrorCode::USAGE);
    CHECK(vci::resolve_source("nosuch").error().code == ErrorCode::USAGE);
    CHECK(vci::resolve_source("vci").value().snapshot_url.find("vci_snapshot.json") != std::string::npos);
}

TEST_CASE("fingerprint_sha256 is upper-case hex with colons over the DER bytes") {
    CHECK(vci::fingerprint_sha256("abc") ==
          "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
    CHECK(vci::fingerprint_sha256("") == digest::hex(digest::sha256(""), digest::HexCase::Upper, ":"));
}

TEST_CASE("the pin matches however it is written: case, colons, spaces" * doctest::test_suite("conformance")) {
    auto json = vci_file("vci_snapshot.json"), sig = vci_file("vci_snapshot.sig"), crt = vci_file("vci_snapshot.crt");
    std::string plain;
    for (char c : kPin)
        if (c != ':') plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK_FALSE(vci::verify_snapshot(json, sig, crt, plain, kNov2026).has_value());
    CHECK_FALSE(vci::verify_snapshot(json, sig, crt, " " + kPin + "\n", kNov2026).has_value());
}
