#pragma once
// Private files and directories, as ssh treats them: created 0700/0600 under umask 077,
// refused (exit 6, with the chmod that fixes it) when another user could read them.

#include <optional>
#include <string>

namespace iotspot::core {

/// Creates `dir` and its missing parents (0700). Throws Error(store) when `dir` exists but is
/// not a directory, is owned by another user, or is accessible by group or others.
void ensure_private_dir(const std::string& dir);

/// Throws Error(store) when the existing file `path` is owned by another user or is
/// accessible by group or others. A missing file is fine.
void check_private_file(const std::string& path);

/// The whole content of `path`, or nullopt when it does not exist. Throws Error(store) on
/// other errors; `what` names the file for the message ("key file", "config file").
std::optional<std::string> read_file(const std::string& path, const char* what);

/// Replaces `path` atomically with `content`, mode 0600 (write to a temporary file in the
/// same directory, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& content, const char* what);

/// Creates `path` with `content` (0600) unless it exists; returns the content that is there
/// afterwards, so that two processes racing to create it agree on one.
std::string create_file_once(const std::string& path, const std::string& content, const char* what);

/// The part of `path` before its last '/'.
std::string parent_dir(const std::string& path);

} // namespace iotspot::core
