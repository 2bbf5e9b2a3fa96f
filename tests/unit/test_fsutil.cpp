#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "shcx/fsutil.h"
#include "support.h"

using namespace shcx;

namespace {
size_t entries_in(const test::fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : test::fs::directory_iterator(dir)) ++n;
    return n;
}
}  // namespace

TEST_CASE("write_file_atomic writes the exact bytes with the mode, and leaves no temporary file") {
    test::TempDir dir;
    std::string data("line\n\0binary\xff", 13);
    auto path = (dir / "out.bin").string();
    REQUIRE_FALSE(fsutil::write_file_atomic(path, data, 0600).has_value());
    CHECK(test::read_file(path) == data);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(entries_in(dir.path()) == 1);
    // Replacing keeps one complete file.
    REQUIRE_FALSE(fsutil::write_file_atomic(path, "second").has_value());
    CHECK(test::read_file(path) == "second");
    CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("write_file_atomic into a missing directory is IO_ERROR naming the path, nothing written") {
    test::TempDir dir;
    auto path = (dir / "no/such/dir/file").string();
    auto e = fsutil::write_file_atomic(path, "x");
    REQUIRE(e.has_value());
    CHECK(e->code == ErrorCode::IO_ERROR);
    CHECK(test::contains(e->message, path));
    CHECK(entries_in(dir.path()) == 0);
}

TEST_CASE("read_file: the cap is inclusive, missing files and directories are INPUT_UNREADABLE") {
    test::TempDir dir;
    test::write_file(dir / "ten", std::string(10, 'x'));
    CHECK(fsutil::read_file((dir / "ten").string(), 10).value() == std::string(10, 'x'));
    auto over = fsutil::read_file((dir / "ten").string(), 9);
    CHECK(over.error().code == ErrorCode::INPUT_TOO_LARGE);
    CHECK(over.error().message == "larger than 9 bytes");
    CHECK(fsutil::read_file((dir / "missing").string(), 10).error().code == ErrorCode::INPUT_UNREADABLE);
    CHECK(fsutil::read_file(dir.path().string(), 10).error().code == ErrorCode::INPUT_UNREADABLE);
    test::write_file(dir / "empty", "");
    CHECK(fsutil::read_file((dir / "empty").string(), 10).value().empty());
}

TEST_CASE("read_file: a file of unknown size (a pipe) is read to its end, with the same cap") {
    // fstat gives no size for a pipe: the buffer grows past its first 4 KiB guess.
    auto pipe_path = [](const std::string& content) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        REQUIRE(::write(fds[1], content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        ::close(fds[1]);
        return fds[0];
    };
    std::string content(10000, 'p');
    content[9999] = 'q';
    int fd = pipe_path(content);
    CHECK(fsutil::read_file("/dev/fd/" + std::to_string(fd), 10000).value() == content);
    ::close(fd);
    fd = pipe_path(content);
    auto over = fsutil::read_file("/dev/fd/" + std::to_string(fd), 9999);
    ::close(fd);
    CHECK(over.error().code == ErrorCode::INPUT_TOO_LARGE);
    CHECK(over.error().message == "larger than 9999 bytes");
}

TEST_CASE("read_file: a larger regular file, one byte past the cap and exactly at it") {
    test::TempDir dir;
    std::string big(100000, 'b');
    test::write_file(dir / "big", big);
    CHECK(fsutil::read_file((dir / "big").string(), 99999).error().code == ErrorCode::INPUT_TOO_LARGE);
    CHECK(fsutil::read_file((dir / "big").string(), 100000).value() == big);
}

TEST_CASE("read_file holds what it read, not a page per small file") {
    // verify holds every input it read until the cards are out: a 4 KiB buffer per
    // 800-byte card file was what made a large run's heap grow (docs/performance.md).
    test::TempDir dir;
    test::write_file(dir / "small", std::string(800, 's'));
    auto small = fsutil::read_file((dir / "small").string(), 1000);
    REQUIRE(small.ok());
    CHECK(small.value() == std::string(800, 's'));
    CHECK(small.value().capacity() <= 801);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], "pipe", 4) == 4);
    ::close(fds[1]);
    auto piped = fsutil::read_file("/dev/fd/" + std::to_string(fds[0]), 1000);
    ::close(fds[0]);
    REQUIRE(piped.ok());
    CHECK(piped.value() == "pipe");
    CHECK(piped.value().capacity() < 100);
}

TEST_CASE("read_stream reads what the caller opened, with the same cap") {
    std::istringstream small("hello"), big(std::string(100000, 'b'));
    CHECK(fsutil::read_stream(small, 5).value() == "hello");
    CHECK(fsutil::read_stream(big, 99999).error().code == ErrorCode::INPUT_TOO_LARGE);
}

TEST_CASE("numbered_path puts the number before the extension") {
    CHECK(fsutil::numbered_path("card.png", 2) == "card-2.png");
    CHECK(fsutil::numbered_path("out/card.smart-health-card", 1) == "out/card-1.smart-health-card");
    CHECK(fsutil::numbered_path("bundle", 3) == "bundle-3");
    CHECK(fsutil::numbered_path("a.b.svg", 10) == "a.b-10.svg");
}
