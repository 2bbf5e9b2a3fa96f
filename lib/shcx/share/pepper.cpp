#include "shcx/share/pepper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shcx/share/crypto.h"

namespace shcx::share {
namespace {

constexpr size_t kPepperBytes = 32;

Error io_error(const std::string& what, const std::string& path) {
    return make_error(ErrorCode::IO_ERROR, what + " " + path + ": " + std::strerror(errno));
}

Result<SecretString> read_pepper(const std::string& path, bool& readable_by_others) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot read the pepper file", path);
    struct stat st {};
    SecretString bytes(std::string(kPepperBytes + 1, '\0'));
    ssize_t n = fstat(fd, &st) == 0 ? ::read(fd, bytes.str().data(), bytes.str().size()) : -1;
    ::close(fd);
    if (n < 0) return io_error("cannot read the pepper file", path);
    if (static_cast<size_t>(n) != kPepperBytes)
        return make_error(ErrorCode::IO_ERROR, "the pepper file " + path + " must hold exactly 32 bytes");
    bytes.str().resize(kPepperBytes);
    readable_by_others = (st.st_mode & 077) != 0;
    return bytes;
}

// Writes 32 fresh bytes to a private temporary file and links it into place: the pepper
// appears whole or not at all, and never replaces one that is there. False (and no error)
// when another process created the file first.
Result<bool> create_pepper(const std::string& path) {
    std::string tmp = path + ".new-XXXXXX";
    int fd = mkstemp(tmp.data());  // mode 0600
    if (fd < 0) return io_error("cannot create the pepper file", tmp);
    SecretString pepper(random_bytes(kPepperBytes));
    bool written =
        ::write(fd, pepper.str().data(), kPepperBytes) == static_cast<ssize_t>(kPepperBytes) && fsync(fd) == 0;
    ::close(fd);
    bool linked = written && ::link(tmp.c_str(), path.c_str()) == 0;
    int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!written) return make_error(ErrorCode::IO_ERROR, "cannot write the pepper file " + tmp);
    if (!linked && link_errno == EEXIST) return false;
    errno = link_errno;
    if (!linked) return io_error("cannot create the pepper file", path);
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::string dependents_text(int64_t n) { return std::to_string(n) + (n == 1 ? " user or share" : " users and shares"); }

}  // namespace

std::string pepper_fingerprint(std::string_view pepper) { return hmac_sha256(pepper, "shcx1|pepper-check"); }

Result<Pepper> open_pepper(const std::string& path, Store& store, PepperMode mode, double now) {
    Pepper out;
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && mode == PepperMode::Init)
        return make_error(ErrorCode::USAGE, "the pepper file " + path +
                                                " exists; --init only creates one where there is none (move it away "
                                                "first if you really mean to start over)");
    if (!exists) {
        if (errno != ENOENT) return io_error("cannot read the pepper file", path);
        bool has_check = store.pepper_check().has_value();
        int64_t dependents = store.pepper_dependents();
        if (mode == PepperMode::Existing)
            return make_error(ErrorCode::SHARE_PEPPER_MISSING,
                              "no pepper file at " + path + " (`shcx share serve` creates one for a new database)");
        if (mode == PepperMode::CreateIfNew && (has_check || dependents > 0))
            return make_error(
                ErrorCode::SHARE_PEPPER_MISSING,
                "the pepper file " + path + " is missing, and the database " +
                    (dependents ? "has " + dependents_text(dependents) + " that need it" : "was made with one") +
                    ": restore the file (it is not part of database backups), or start over with "
                    "`shcx share serve --init` (existing shares and tokens then stop working)");
        auto created = create_pepper(path);
        if (!created) return created.error();
        out.created = created.value();
        if (mode == PepperMode::Init && out.created && (has_check || dependents > 0)) {
            auto bytes = read_pepper(path, out.readable_by_others);
            if (!bytes) return bytes.error();
            out.bytes = std::move(bytes.value());
            out.shares_revoked = store.reset_pepper(pepper_fingerprint(out.bytes.str()), now);
            out.replaced = true;
            return out;
        }
    }
    auto bytes = read_pepper(path, out.readable_by_others);
    if (!bytes) return bytes.error();
    out.bytes = std::move(bytes.value());
    std::string check = pepper_fingerprint(out.bytes.str());
    if (store.adopt_pepper_check(check) != check)
        return make_error(ErrorCode::SHARE_PEPPER_MISMATCH,
                          "the pepper file " + path +
                              " is not the one this database was made with: find the right file (tokens, PINs and "
                              "shares cannot be checked without it)");
    return out;
}

}  // namespace shcx::share
