#include "shcx/fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace shcx::fsutil {

Result<std::string> read_stream(std::istream& in, size_t max_bytes) {
    std::string data;
    char buf[65536];
    while (in) {
        in.read(buf, sizeof buf);
        data.append(buf, static_cast<size_t>(in.gcount()));
        if (data.size() > max_bytes)
            return make_error(ErrorCode::INPUT_TOO_LARGE, "larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (in.bad()) return make_error(ErrorCode::INPUT_UNREADABLE, "read error");
    return data;
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
    // One open, one fstat and (for a regular file) one read of its size plus one byte:
    // verify reads thousands of small files, and every system call counts.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(ErrorCode::INPUT_UNREADABLE, "cannot be opened");
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(ErrorCode::INPUT_UNREADABLE, "cannot be opened");
    if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::INPUT_UNREADABLE, "is a directory");
    auto too_large = [&] {
        return make_error(ErrorCode::INPUT_TOO_LARGE, "larger than " + std::to_string(max_bytes) + " bytes");
    };
    bool regular = S_ISREG(st.st_mode);
    size_t expected = regular ? static_cast<size_t>(st.st_size) : 0;
    if (expected > max_bytes) return too_large();
    // Sized to the file, not to a page: a run holds every input it read until the cards
    // are extracted, and a page per small file is what made its heap grow (and fault).
    std::string data;
    data.resize(regular ? expected + 1 : 4096);
    size_t got = 0;
    for (;;) {
        if (got == data.size()) {
            if (got > max_bytes) return too_large();
            data.resize(std::min(data.size() * 2, max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1));
        }
        size_t asked = data.size() - got;
        ssize_t n = ::read(fd, data.data() + got, asked);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(ErrorCode::INPUT_UNREADABLE, "read error");
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
        // A regular file returns less than asked only at its end: no read to see the 0.
        if (regular && static_cast<size_t>(n) < asked) break;
    }
    if (got > max_bytes) return too_large();
    data.resize(got);
    if (data.capacity() > 2 * got + 64) data.shrink_to_fit();  // a pipe's buffer, grown by doubling
    return data;
}

std::optional<Error> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    namespace fs = std::filesystem;
    fs::path target(path);
    fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    int fd = mkstemp(tmpl.data());
    auto fail = [&](const std::string& what) {
        std::string msg = "cannot " + what + " " + path + ": " + std::strerror(errno);
        if (fd >= 0) close(fd);
        unlink(tmpl.c_str());
        return make_error(ErrorCode::IO_ERROR, msg);
    };
    if (fd < 0)
        return make_error(ErrorCode::IO_ERROR, "cannot create a file next to " + path + ": " + std::strerror(errno));
    if (fchmod(fd, mode) != 0) return fail("set permissions on");
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("write");
        }
        off += static_cast<size_t>(n);
    }
    if (fsync(fd) != 0) return fail("sync");
    if (close(fd) != 0) {
        fd = -1;
        return fail("close");
    }
    fd = -1;
    if (rename(tmpl.c_str(), path.c_str()) != 0) return fail("rename into");
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return std::nullopt;
}

std::string numbered_path(const std::string& path, int n) {
    std::filesystem::path p(path);
    std::string stem = p.stem().string(), ext = p.extension().string();
    return (p.parent_path() / (stem + "-" + std::to_string(n) + ext)).string();
}

}  // namespace shcx::fsutil
