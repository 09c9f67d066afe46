#include "store/token_file.h"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

#include "store/files.h"

namespace iotspot::store {

std::optional<mode_t> parse_token_file_mode(std::string_view text) {
    if (text.empty() || text.size() > 4) {
        return std::nullopt;
    }
    mode_t mode = 0;
    for (const char c : text) {
        if (c < '0' || c > '7') {
            return std::nullopt;
        }
        mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
    }
    // The owner must read it; the group may only read; others nothing; no special bits.
    if ((mode & 0400) == 0 || (mode & ~static_cast<mode_t>(0640)) != 0) {
        return std::nullopt;
    }
    return mode;
}

void write_token_file(const std::string& path, const std::string& token, mode_t mode) {
    const std::string dir = parent_dir(path);
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0 && errno == ENOENT) {
        ensure_private_dir(dir);
    }
    refuse_unless_regular(path, "token file");
    write_file_atomic(path, token + "\n", "token file", mode);
}

bool remove_token_file(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return false;
    }
    return ::unlink(path.c_str()) == 0;
}

} // namespace iotspot::store
