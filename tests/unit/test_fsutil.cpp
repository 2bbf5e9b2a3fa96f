#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <thread>

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

TEST_CASE("read_files gives read_file's result for every kind of path, in order, on one or two threads") {
    test::TempDir dir;
    std::vector<std::string> paths;
    size_t small_regular = 0;
    auto regular = [&](const std::string& name, const std::string& content) {
        test::write_file(dir / name, content);
        paths.push_back((dir / name).string());
        ++small_regular;
    };
    // More than one batch (64) and more than one ring (512) of small files, sizes varied.
    for (int i = 0; i < 700; ++i)
        regular("card-" + std::to_string(i), std::string(static_cast<size_t>(i * 7), 'a' + i % 26));
    regular("empty", "");
    regular("at-cap", std::string(5000, 'c'));
    test::write_file(dir / "over-cap", std::string(5001, 'o'));  // TOO_LARGE, through read_file
    paths.push_back((dir / "over-cap").string());
    paths.push_back((dir / "missing").string());
    paths.push_back(dir.path().string());  // a directory
    test::fs::create_symlink(dir / "card-3", dir / "link");
    paths.push_back((dir / "link").string());
    ++small_regular;                                              // a link to a small regular file is one
    paths.push_back((dir / "card-3" / "under-a-file").string());  // ENOTDIR
    paths.push_back("");
    // A pipe: not a regular file, so read_file reads it; its content proves the order.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], "piped", 5) == 5);
    ::close(fds[1]);
    paths.push_back("/dev/fd/" + std::to_string(fds[0]));
    paths.push_back((dir / "card-5").string());  // the same file twice
    ++small_regular;

    for (int jobs : {1, 2}) {
        CAPTURE(jobs);
        if (jobs == 2) {  // the pipe was drained by the first round: a new one
            REQUIRE(::pipe(fds) == 0);
            REQUIRE(::write(fds[1], "piped", 5) == 5);
            ::close(fds[1]);
            paths[paths.size() - 2] = "/dev/fd/" + std::to_string(fds[0]);
        }
        size_t batched = 0;
        auto got = fsutil::read_files(paths, 5000, jobs, &batched);
        ::close(fds[0]);
        REQUIRE(got.size() == paths.size());
        CHECK(batched == (fsutil::batched_reads_available() ? small_regular : 0));
        for (size_t i = 0; i < paths.size(); ++i) {
            CAPTURE(paths[i]);
            if (paths[i].rfind("/dev/fd/", 0) == 0) {
                CHECK(got[i].value() == "piped");
                continue;
            }
            auto one = fsutil::read_file(paths[i], 5000);
            REQUIRE(got[i].ok() == one.ok());
            if (one.ok()) {
                CHECK(got[i].value() == one.value());
            } else {
                CHECK(got[i].error().code == one.error().code);
                CHECK(got[i].error().message == one.error().message);
            }
        }
        CHECK(got[0].value().empty());
        CHECK(got[699].value() == std::string(699 * 7, 'a' + 699 % 26));
        CHECK(got[paths.size() - 1].value() == std::string(35, 'f'));
    }
    CHECK(fsutil::read_files({}, 10, 2).empty());
}

TEST_CASE("read_files: a FIFO is read through read_file, never opened by the batch") {
    // Opening a FIFO waits for a writer; the batch only opens what statx calls a small
    // regular file, so a FIFO named among card files is read whole, in its turn.
    test::TempDir dir;
    auto fifo = (dir / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::vector<std::string> paths;
    for (int i = 0; i < 10; ++i) {
        test::write_file(dir / std::to_string(i), "card " + std::to_string(i));
        paths.push_back((dir / std::to_string(i)).string());
    }
    paths.insert(paths.begin() + 5, fifo);
    std::thread writer([&] { test::write_file(fifo, "from the fifo"); });
    size_t batched = 0;
    auto got = fsutil::read_files(paths, 100, 1, &batched);
    writer.join();
    CHECK(batched == (fsutil::batched_reads_available() ? 10 : 0));
    CHECK(got[4].value() == "card 4");
    CHECK(got[5].value() == "from the fifo");
    CHECK(got[6].value() == "card 5");
}

TEST_CASE("read_files: a few paths are read one by one, without a ring") {
    test::TempDir dir;
    test::write_file(dir / "one", "1");
    size_t batched = 99;
    auto got = fsutil::read_files({(dir / "one").string(), (dir / "two").string()}, 10, 1, &batched);
    CHECK(batched == 0);
    CHECK(got[0].value() == "1");
    CHECK(got[1].error().message == "cannot be opened");
}
