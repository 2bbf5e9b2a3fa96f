// fsutil::read_files: many small files with one system call each (the statx) and a few
// per batch rather than four per file (docs/performance.md, "Design choices"). On this
// project's VMs a system call costs about a microsecond, so open + fstat + read + close
// was about 6-10 µs a file; this way it is about 5.
//
// Each batch of up to kBatch files takes two steps:
//   1. a statx of every path (plain system calls): its type and size. Not through the
//      ring: io_uring always hands a statx to a kernel worker thread, and that hand-off
//      cost 5-10 µs a file here, more than the call itself;
//   2. for each small regular file, open (into a slot of the ring's own file table, so no
//      descriptor reaches the process), read of size + 1 bytes, close, linked in order,
//      all submitted together.
// Anything else is left to read_file, which gives every error and cap exactly: a path
// that is not a small regular file, any failure at all, and a file whose size changed
// between the two steps. So the results are read_file's, only cheaper.
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>

#include "shcx/fsutil.h"
#include "shcx/parallel.h"

namespace shcx::fsutil {
namespace {

constexpr unsigned kBatch = 64;
// Files up to this size are read in the ring; larger ones are rare among inputs (a QR
// image) and read_file streams them with its cap.
constexpr size_t kSmallFile = size_t{1} << 20;
// Paths per ring: a ring costs a few pages and system calls to set up (and to take down),
// more than reading a handful of files one by one: below kFewPaths, read_file each.
constexpr size_t kPathsPerRing = 512;
constexpr size_t kFewPaths = 8;

class Ring {
public:
    Ring() {
        // SUBMIT_ALL: an operation refused as it is prepared fails alone, not the rest of
        // the batch (Linux 5.18; before it, the batch stops there and read_file reads the
        // rest).
        io_uring_params params{};
        params.flags = IORING_SETUP_SUBMIT_ALL;
        if (io_uring_queue_init_params(kBatch * 4, &m_ring, &params) != 0 &&
            io_uring_queue_init(kBatch * 4, &m_ring, 0) != 0)
            return;
        if (io_uring_register_files_sparse(&m_ring, kBatch) != 0) {
            io_uring_queue_exit(&m_ring);
            return;
        }
        m_ok = true;
    }
    ~Ring() {
        if (m_ok) io_uring_queue_exit(&m_ring);
    }
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    bool ok() const { return m_ok && m_buffers; }

    // Reads paths[i] for i in [begin, end) into out[i]; what it cannot read stays empty.
    void read_batch(const std::vector<std::string>& paths, size_t begin, size_t end, size_t max_bytes,
                    std::vector<std::optional<Result<std::string>>>& out) {
        const size_t n = end - begin;
        auto& st = m_buffers->st;
        int statx_res[kBatch];
        for (size_t j = 0; j < n; ++j)
            statx_res[j] = ::statx(AT_FDCWD, paths[begin + j].c_str(), 0, STATX_TYPE | STATX_SIZE, &st[j]);

        size_t queued = 0;
        for (size_t j = 0; j < n; ++j) {
            bool small_regular =
                statx_res[j] == 0 && S_ISREG(st[j].stx_mode) && st[j].stx_size <= std::min(kSmallFile, max_bytes);
            if (!small_regular) continue;
            auto& data = m_buffers->data[j];
            data.assign(static_cast<size_t>(st[j].stx_size) + 1, '\0');  // + 1: a file that grew shows
            auto slot = static_cast<unsigned>(j);
            io_uring_sqe* open = io_uring_get_sqe(&m_ring);
            // O_NONBLOCK: were the path swapped for a FIFO since the statx, the open must
            // not wait for a writer (the read then comes up short and read_file takes over).
            io_uring_prep_openat_direct(open, AT_FDCWD, paths[begin + j].c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY, 0,
                                        slot);
            open->flags |= IOSQE_IO_LINK;
            io_uring_sqe_set_data64(open, kOpen | j);
            io_uring_sqe* read = io_uring_get_sqe(&m_ring);
            io_uring_prep_read(read, static_cast<int>(slot), data.data(), static_cast<unsigned>(data.size()), 0);
            // A hard link: a regular file's read is short by design (the + 1), which
            // would cancel a plain link's close and leave the slot taken.
            read->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
            io_uring_sqe_set_data64(read, kRead | j);
            io_uring_sqe* close = io_uring_get_sqe(&m_ring);
            io_uring_prep_close_direct(close, slot);
            io_uring_sqe_set_data64(close, kClose | j);
            queued += 3;
        }
        if (queued == 0) return;
        int read_res[kBatch];
        std::fill_n(read_res, n, -1);
        if (!complete(queued, [&](uint64_t tag, int res) {
                if ((tag & kKind) == kRead) read_res[tag & ~kKind] = res;
            }))
            return;
        for (size_t j = 0; j < n; ++j) {
            auto& data = m_buffers->data[j];
            if (read_res[j] >= 0 && data.size() == static_cast<size_t>(read_res[j]) + 1) {
                data.pop_back();
                out[begin + j] = Result<std::string>(std::move(data));
            }
            data = std::string();
        }
    }

private:
    static constexpr uint64_t kOpen = uint64_t{1} << 62, kRead = uint64_t{2} << 62, kClose = uint64_t{3} << 62,
                              kKind = uint64_t{3} << 62;

    // Submits what is queued and takes a completion for each, handing it to `take`. On a
    // failure the ring is given up (read_file from here on), but only once every operation
    // that reached the kernel has completed: they write into this batch's buffers.
    template <class Take>
    bool complete(size_t count, Take take) {
        int submitted = io_uring_submit_and_wait(&m_ring, static_cast<unsigned>(count));
        size_t in_flight = submitted > 0 ? static_cast<size_t>(submitted) : 0;
        for (size_t seen = 0; seen < in_flight; ++seen) {
            io_uring_cqe* cqe = nullptr;
            int waited;
            while ((waited = io_uring_wait_cqe(&m_ring, &cqe)) == -EINTR) {
            }
            if (waited != 0) {
                // Operations still in flight may yet write into the buffers: they are
                // left allocated (leaked) rather than freed under them.
                (void)m_buffers.release();
                m_ok = false;
                return false;
            }
            take(io_uring_cqe_get_data64(cqe), cqe->res);
            io_uring_cqe_seen(&m_ring, cqe);
        }
        if (in_flight != count) m_ok = false;
        return m_ok;
    }

    struct Buffers {
        struct statx st[kBatch];
        std::string data[kBatch];
    };
    io_uring m_ring{};
    bool m_ok = false;
    std::unique_ptr<Buffers> m_buffers = std::make_unique<Buffers>();
};

}  // namespace

std::vector<Result<std::string>> read_files(const std::vector<std::string>& paths, size_t max_bytes, int jobs,
                                            size_t* batched) {
    std::vector<std::optional<Result<std::string>>> got(paths.size());
    size_t rings = (paths.size() + kPathsPerRing - 1) / kPathsPerRing;
    std::atomic<size_t> in_batches{0};
    if (paths.size() < kFewPaths) {
        for (size_t i = 0; i < paths.size(); ++i) got[i] = read_file(paths[i], max_bytes);
        rings = 0;
    }
    parallel_for(rings, jobs, [&](size_t r) {
        size_t begin = r * kPathsPerRing, end = std::min(paths.size(), begin + kPathsPerRing);
        Ring ring;
        for (size_t at = begin; at < end && ring.ok(); at += kBatch)
            ring.read_batch(paths, at, std::min(end, at + kBatch), max_bytes, got);
        size_t mine = 0;
        for (size_t i = begin; i < end; ++i) {
            if (got[i]) ++mine;
            else got[i] = read_file(paths[i], max_bytes);
        }
        in_batches += mine;
    });
    if (batched) *batched = in_batches;
    std::vector<Result<std::string>> out;
    out.reserve(paths.size());
    for (auto& g : got) out.push_back(std::move(*g));
    return out;
}

bool batched_reads_available() { return Ring().ok(); }

}  // namespace shcx::fsutil
