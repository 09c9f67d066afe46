#include "store/secret_files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "store/files.h"
#include "util/fd.h"

namespace iotspot::store {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& named_by,
                         const std::string& problem, const char* remedy) {
    throw core::Error(core::Exit::not_configured,
                      "secret file " + path + " (" + named_by + ") " + problem + "; " + remedy);
}

std::string credential_path(const core::Environment& env, const SecretSource& source) {
    const auto dir = env.get("CREDENTIALS_DIRECTORY");
    return dir ? *dir + "/" + source.credential : std::string();
}

bool exists(const std::string& path) {
    struct stat info {};
    return !path.empty() && ::stat(path.c_str(), &info) == 0;
}

// Reads at most max_secret_file_size + 1 bytes of an open regular file.
std::string read_bounded(int fd, const std::string& path, const std::string& named_by) {
    std::string content;
    char buffer[4096];
    while (content.size() <= max_secret_file_size) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            refuse(path, named_by, std::string("cannot be read: ") + std::strerror(errno),
                   "check its permissions");
        }
        if (n == 0) {
            return content;
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    refuse(path, named_by, "is larger than " + std::to_string(max_secret_file_size) + " bytes",
           "it should hold the secret alone");
}

} // namespace

SecretOrigin secret_origin(const core::Environment& env, const SecretSource& source) {
    if (env.get(source.variable)) {
        return SecretOrigin::variable;
    }
    if (env.get(source.file_variable)) {
        return SecretOrigin::file;
    }
    if (exists(credential_path(env, source))) {
        return SecretOrigin::credential;
    }
    return SecretOrigin::none;
}

std::optional<std::string> secret_from_environment(const core::Environment& env,
                                                   const SecretSource& source) {
    switch (secret_origin(env, source)) {
    case SecretOrigin::variable:
        return env.get(source.variable);
    case SecretOrigin::file:
        return read_secret_file(*env.get(source.file_variable), source.file_variable);
    case SecretOrigin::credential:
        return read_secret_file(credential_path(env, source), "$CREDENTIALS_DIRECTORY");
    case SecretOrigin::none:
        break;
    }
    return std::nullopt;
}

std::string read_secret_file(const std::string& path, const std::string& named_by) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    const util::Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        const int error = errno;
        refuse(path, named_by, std::string("cannot be opened: ") + std::strerror(error),
               error == ENOENT ? "create it, or correct the name" : "check its permissions");
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        refuse(path, named_by, std::string("cannot be read: ") + std::strerror(errno), "check it");
    }
    if (!S_ISREG(info.st_mode)) {
        refuse(path, named_by, std::string("is ") + file_kind(info.st_mode),
               "name a file that holds the secret");
    }
    if (static_cast<unsigned long long>(info.st_size) > max_secret_file_size) {
        refuse(path, named_by, "is larger than " + std::to_string(max_secret_file_size) + " bytes",
               "it should hold the secret alone");
    }
    std::string content = read_bounded(fd.get(), path, named_by);
    if (!content.empty() && content.back() == '\n') {
        content.pop_back();
    }
    if (content.empty()) {
        refuse(path, named_by, "is empty", "write the secret into it");
    }
    for (const char c : content) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            refuse(path, named_by, "holds a control character (a second line?)",
                   "it should hold the secret alone, on one line");
        }
    }
    return content;
}

} // namespace iotspot::store
