#include "core/file_lock.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"

namespace iotspot::core {

FileLock::FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throw Error(Exit::store, "cannot open lock file " + path + ": " + std::strerror(errno));
    }
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            const std::string reason = std::strerror(errno);
            ::close(fd_);
            throw Error(Exit::store, "cannot lock " + path + ": " + reason);
        }
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

} // namespace iotspot::core
