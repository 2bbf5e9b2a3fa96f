// Internal to trust/index.cpp: the index file's binary layout (index_codec.cpp). Not installed.
//
//   magic | u64 header length | header | HMAC-SHA256(key, magic .. header) | records
//
// The header holds what binds the index to the installed files, the certificate pin and
// validity, the CRLs and warnings, and one entry per issuer: its iss, where its record
// is and the record's SHA-256. A record is one issuer (keys included). So the MAC covers
// the header only, and a record is authentic when its SHA-256 is the one the header
// names (a hash tree of depth one): a run reads the header and the one record it needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shcx/trust/index.h"

namespace shcx::trust_index {

// One installed file or directory as the file system identifies it (stat): a file
// replaced (rename, delete and create) has another inode or ctime; one written in place
// has another ctime, which no user can set. `absent`: it did not exist.
struct FileId {
    std::string name;  // relative to the install directory
    bool absent = false;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_s = 0, mtime_ns = 0, ctime_s = 0, ctime_ns = 0;
    bool operator==(const FileId& o) const {
        return name == o.name && absent == o.absent && dev == o.dev && ino == o.ino && size == o.size &&
               mtime_s == o.mtime_s && mtime_ns == o.mtime_ns && ctime_s == o.ctime_s && ctime_ns == o.ctime_ns;
    }
};

struct IssuerEntry {
    std::string_view iss;             // (into the header, or the issuer when writing)
    uint64_t position = 0;            // in the snapshot's order
    uint64_t offset = 0, length = 0;  // of its record, from the end of the MAC
    std::string_view sha256;          // of its record
};

struct Header {
    std::string files_sha256;     // the installed files' content (index.cpp files_digest)
    bool by_content = false;      // the identities could not be trusted at write: hash instead
    std::vector<FileId> files;    // the installed files' identities
    std::string certificate_pin;  // the pin it was made for
    double cert_not_before = 0, cert_not_after = 0;
    std::string snapshot_time;
    std::vector<std::pair<std::string, trust::Crl>> snapshot_crls, crls;
    std::vector<trust::InvalidCrl> snapshot_invalid_crls, invalid_crls;
    std::vector<Error> snapshot_warnings, warnings;
    std::vector<IssuerEntry> issuers;  // sorted by iss, distinct
};

// The identities of the install in `dir`: the snapshot's files, the crls/ directory (its
// ctime changes when an entry is added, removed or renamed) and every entry in it.
std::vector<FileId> identities(const std::filesystem::path& dir);
// The identities to record, and whether they can be trusted (else the index binds the
// files' content): taken only once every file's ctime is before the coarse clock read
// just before the stats, waiting for the clock to move on (up to about 100 ms).
std::pair<std::vector<FileId>, bool> bind_install(const std::filesystem::path& dir);

std::string serialise_header(const Header& h);
// nullopt unless whole and consistent (issuers sorted and distinct, positions a
// permutation); the entries' views point into `bytes`.
std::optional<Header> deserialise_header(std::string_view bytes);

std::string serialise_issuer(const trust::Issuer& issuer);
std::optional<trust::Issuer> deserialise_issuer(std::string_view bytes);

}  // namespace shcx::trust_index
