#pragma once
// Private files and directories, as ssh treats them: created 0700/0600 under umask 077,
// refused (exit 6, with the chmod that fixes it) when another user could read them.
// The files themselves are never opened through a symbolic link, and anything that is not a
// regular file (a FIFO, a device, a directory) is refused before it is read, so it can
// neither redirect a write nor make the helper hang. Directories may be links.

#include <optional>
#include <string>
#include <sys/types.h>

#include "util/fd.h"
#include "util/result.h"

namespace iotspot::store {

/// Why a file could not be used.
struct FileProblem {
    bool refused = false; ///< a link or not a regular file: refused, not merely failed
    std::string message;  ///< for the user, naming the file and what to do
};

/// Throws what `problem` means for the user: StoreRefused when it was refused, Error(store)
/// otherwise.
[[noreturn]] void throw_problem(const FileProblem& problem);

/// Creates `dir` and its missing parents (0700). Throws Error(store) when `dir` exists but is
/// not a directory, is owned by another user, or is accessible by group or others.
void ensure_private_dir(const std::string& dir);

/// Throws StoreRefused when the existing file `path` is a symbolic link, is not a regular
/// file, is owned by another user or is accessible by group or others. A missing file is
/// fine. `what` names the file for the message ("key file").
void check_private_file(const std::string& path, const char* what = "file");

/// Throws StoreRefused when `path` exists but is a symbolic link or not a regular file.
/// A missing file is fine.
void refuse_unless_regular(const std::string& path, const char* what);

/// Opens `path` with `flags` (O_RDONLY, O_RDWR, O_CREAT...; mode 0600 when created) without
/// following a symbolic link and without blocking on a FIFO, and checks that it is a regular
/// file. Returns the descriptor (close-on-exec), or an empty Fd when `path` does not exist
/// and `flags` has no O_CREAT; a refused problem for a link or a file that is not regular,
/// and a plain one for other failures. `what` names the file in the message ("lock file").
util::Result<util::Fd, FileProblem> open_regular_file(const std::string& path, int flags,
                                                      const char* what);

/// The whole content of `path`, or nullopt when it does not exist. Throws as
/// open_regular_file does, and Error(store) on read errors; `what` names the file for the
/// message ("key file", "config file").
std::optional<std::string> read_file(const std::string& path, const char* what);

/// Replaces `path` atomically with `content`, mode `mode` (write to a new temporary file in
/// the same directory, fsync, rename). A link at `path` is replaced, never written through.
void write_file_atomic(const std::string& path, const std::string& content, const char* what,
                       mode_t mode = 0600);

/// Creates `path` with `content` (0600) unless it exists; returns the content that is there
/// afterwards, so that two processes racing to create it agree on one.
std::string create_file_once(const std::string& path, const std::string& content, const char* what);

/// The part of `path` before its last '/'.
std::string parent_dir(const std::string& path);

/// What a file of `mode` is, for a message: "a directory", "a FIFO", "a socket", "a device",
/// else "not a regular file".
const char* file_kind(mode_t mode);

} // namespace iotspot::store
