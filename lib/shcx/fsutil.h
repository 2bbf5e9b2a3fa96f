// Files in and out. Reads are bounded (a cap on every file read from untrusted places);
// writes never leave a half-written file: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory.
#pragma once

#include <sys/types.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::fsutil {

// The whole file. INPUT_TOO_LARGE past max_bytes; INPUT_UNREADABLE when it cannot be
// opened, is a directory, or a read fails. Messages do not repeat the path: the caller
// puts it in front ("card.png: cannot be opened").
Result<std::string> read_file(const std::string& path, size_t max_bytes);
// Each file as read_file reads it (the same bytes, caps, codes and messages), in the
// order given, on up to `jobs` threads. Small regular files are read in batches through
// io_uring: a statx per file and a few system calls per batch instead of four per file.
// Anything else, and everything when the kernel refuses io_uring, through read_file
// (fsutil_batch.cpp).
// `batched`, when given, is set to how many were read in batches (the tests' view).
std::vector<Result<std::string>> read_files(const std::vector<std::string>& paths, size_t max_bytes, int jobs,
                                            size_t* batched = nullptr);
// Whether this kernel lets the process use io_uring (read_files batches only then).
bool batched_reads_available();
// The rest of a stream the caller opened (the CLI passes standard input); same cap and
// codes.
Result<std::string> read_stream(std::istream& in, size_t max_bytes);

// IO_ERROR naming the path on failure. `mode` applies from creation (0600 keeps a
// private key private even for the instant before rename).
std::optional<Error> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// "card.png" + 2 -> "card-2.png": names for the parts of a multi-part output.
std::string numbered_path(const std::string& path, int n);

}  // namespace shcx::fsutil
