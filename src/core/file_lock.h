#pragma once
// An exclusive advisory lock (flock) on a file, held for the lifetime of the object.
// The kernel drops it when the process dies, so a crashed holder never blocks others.

#include <string>

namespace iotspot::core {

class FileLock {
public:
    /// Opens (creating, 0600) and locks `path`, waiting while another process holds it.
    /// Throws Error(store) when the file cannot be opened.
    explicit FileLock(const std::string& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

} // namespace iotspot::core
