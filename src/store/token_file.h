#pragma once
// The token file that `sink` and `exec --keep-fresh` keep fresh: the access token alone, on
// one line, replaced atomically (a new temporary file in the same directory, written,
// fsynced, renamed over FILE), so a reader sees the old token or the new one, never an empty
// or partial file.

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace iotspot::store {

/// The token file's mode unless --mode asks for another.
inline constexpr mode_t default_token_file_mode = 0600;

/// `text` as an octal mode ("0640", "640") when the owner may read, the group no more than
/// read and others nothing (0600, 0640, 0400, 0440); nullopt otherwise.
std::optional<mode_t> parse_token_file_mode(std::string_view text);

/// Writes `token` and a newline to `path` with `mode`. A missing parent directory is
/// created (0700). Throws StoreRefused (exit 6, naming it) when a symbolic link, FIFO,
/// directory or other non-regular file is at `path`: nothing is written through it.
void write_token_file(const std::string& path, const std::string& token, mode_t mode);

/// Removes `path` when it is a regular file (a link or anything else is left alone);
/// false when there was nothing to remove or it could not be removed.
bool remove_token_file(const std::string& path);

} // namespace iotspot::store
