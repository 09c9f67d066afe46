#include "store/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "util/defer.h"

namespace iotspot::store {

namespace {

std::string errno_text() {
    return std::strerror(errno);
}

[[noreturn]] void fail(const std::string& message) {
    throw core::Error(core::Exit::store, message);
}

std::string link_message(const std::string& path, const char* what) {
    return std::string(what) + " " + path +
           " is a symbolic link, and iotspot-helper does not follow links to its files; replace "
           "the link with the file itself, or remove it";
}

std::string kind_message(const std::string& path, const char* what, mode_t mode) {
    return std::string(what) + " " + path + " is " + file_kind(mode) +
           ", not a regular file; move it away";
}

// "cannot open key file /path: reason"
std::string cannot(const char* doing, const char* what, const std::string& path,
                   const std::string& reason) {
    return std::string("cannot ") + doing + " " + what + " " + path + ": " + reason;
}

void check_owner_and_mode(const std::string& path, const struct stat& info, bool directory) {
    if (info.st_uid != geteuid()) {
        throw core::StoreRefused(path + " belongs to another user; remove it or fix its owner");
    }
    if ((info.st_mode & 077) != 0) {
        throw core::StoreRefused(std::string(directory ? "directory " : "file ") + path +
                                 " is accessible by other users; run: chmod " +
                                 (directory ? "700 " : "600 ") + path);
    }
}

util::Result<void> write_all(int fd, const std::string& content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const auto n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::Failure{errno_text()};
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

util::Result<std::string> read_all(int fd) {
    std::string content;
    char buffer[4096];
    for (;;) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::Failure{errno_text()};
        }
        if (n == 0) {
            return content;
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
}

} // namespace

const char* file_kind(mode_t mode) {
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return "a device";
    }
    return "not a regular file";
}

void throw_problem(const FileProblem& problem) {
    if (problem.refused) {
        throw core::StoreRefused(problem.message);
    }
    throw core::Error(core::Exit::store, problem.message);
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos || slash == 0 ? std::string("/") : path.substr(0, slash);
}

void ensure_private_dir(const std::string& dir) {
    struct stat info {};
    if (::stat(dir.c_str(), &info) == 0) {
        if (!S_ISDIR(info.st_mode)) {
            fail(dir + " is not a directory; move it away");
        }
        check_owner_and_mode(dir, info, true);
        return;
    }
    if (errno != ENOENT) {
        fail("cannot use directory " + dir + ": " + errno_text());
    }
    // Parents are created like `mkdir -p`; only the last component must be private.
    for (std::size_t slash = dir.find('/', 1); slash != std::string::npos;
         slash = dir.find('/', slash + 1)) {
        const std::string part = dir.substr(0, slash);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
            fail("cannot create directory " + part + ": " + errno_text() +
                 "; check its permissions");
        }
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        fail("cannot create directory " + dir + ": " + errno_text() + "; check its permissions");
    }
}

void refuse_unless_regular(const std::string& path, const char* what) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        return;
    }
    if (S_ISLNK(info.st_mode)) {
        throw core::StoreRefused(link_message(path, what));
    }
    if (!S_ISREG(info.st_mode)) {
        throw core::StoreRefused(kind_message(path, what, info.st_mode));
    }
}

void check_private_file(const std::string& path, const char* what) {
    refuse_unless_regular(path, what);
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        return;
    }
    check_owner_and_mode(path, info, false);
}

util::Result<util::Fd, FileProblem> open_regular_file(const std::string& path, int flags,
                                                      const char* what) {
    // O_NONBLOCK: opening a FIFO for reading would wait for a writer. It is cleared again
    // once the file is known to be regular (where it changes nothing anyway).
    util::Fd fd(::open(path.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd) {
        if (errno == ELOOP) {
            return util::Failure{FileProblem{true, link_message(path, what)}};
        }
        if (errno == ENOENT && (flags & O_CREAT) == 0) {
            return fd;
        }
        return util::Failure{FileProblem{false, cannot("open", what, path, errno_text())}};
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        return util::Failure{FileProblem{false, cannot("open", what, path, errno_text())}};
    }
    if (!S_ISREG(info.st_mode)) {
        return util::Failure{FileProblem{true, kind_message(path, what, info.st_mode)}};
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return fd;
}

std::optional<std::string> read_file(const std::string& path, const char* what) {
    auto opened = open_regular_file(path, O_RDONLY, what);
    if (!opened) {
        throw_problem(opened.error());
    }
    if (!opened.value()) {
        return std::nullopt;
    }
    auto content = read_all(opened.value().get());
    if (!content) {
        fail(cannot("read", what, path, content.error()));
    }
    return std::move(content).value();
}

namespace {

// Writes `content` to a new temporary file (`mode`, O_EXCL) beside `path`, synced to disk; returns
// its name. `doing` names the operation for messages ("write", "create").
std::string write_temporary(const std::string& path, const std::string& content, const char* doing,
                            const char* what, mode_t mode = 0600) {
    std::string temp = path + ".XXXXXX";
    const util::Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        fail(cannot(doing, what, path, errno_text()));
    }
    util::Defer remove_temporary([&temp] { ::unlink(temp.c_str()); });
    ::fchmod(fd.get(), mode);
    if (const auto written = write_all(fd.get(), content); !written) {
        fail("cannot write " + path + ": " + written.error());
    }
    if (::fsync(fd.get()) != 0) {
        fail(cannot(doing, what, path, errno_text()));
    }
    remove_temporary.dismiss();
    return temp;
}

} // namespace

void write_file_atomic(const std::string& path, const std::string& content, const char* what,
                       mode_t mode) {
    const std::string temp = write_temporary(path, content, "write", what, mode);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string reason = errno_text();
        ::unlink(temp.c_str());
        fail(std::string("cannot write ") + what + " " + path + ": " + reason);
    }
}

std::string create_file_once(const std::string& path, const std::string& content,
                             const char* what) {
    if (auto existing = read_file(path, what)) {
        return *existing;
    }
    // Write a complete temporary file, then link() it into place: link fails when another
    // process won the race, and nobody ever reads a half-written file.
    const std::string temp = write_temporary(path, content, "create", what);
    const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(temp.c_str());
    if (!linked && link_errno != EEXIST) {
        fail(std::string("cannot create ") + what + " " + path + ": " + std::strerror(link_errno));
    }
    auto winner = read_file(path, what);
    if (!winner) {
        fail(std::string(what) + " " + path + " vanished while it was being created; try again");
    }
    return *winner;
}

} // namespace iotspot::store
