#include "cli/terminal.h"

#include <cstdio>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"
#include "util/fd.h"

namespace iotspot::cli {

using core::Error;
using core::Exit;

namespace {

std::string checked_secret(std::string secret) {
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    if (secret.empty()) {
        throw Error(Exit::usage, "the client secret is empty; paste the secret your organization "
                                 "admin issued");
    }
    for (const char c : secret) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            throw Error(Exit::usage, "the client secret contains a control character; paste it "
                                     "again without them");
        }
    }
    return secret;
}

} // namespace

bool have_terminal() {
    return static_cast<bool>(util::Fd(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)));
}

std::optional<std::string> read_secret_from_terminal(const std::string& prompt) {
    const util::Fd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!tty) {
        return std::nullopt;
    }
    const int fd = tty.get();
    termios saved{};
    const bool is_tty = ::tcgetattr(fd, &saved) == 0;
    if (is_tty) {
        termios quiet = saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!::write(fd, prompt.data(), prompt.size());
    std::string line;
    char c = 0;
    while (line.size() <= 4096 && ::read(fd, &c, 1) == 1 && c != '\n') {
        line.push_back(c);
    }
    if (is_tty) {
        ::tcsetattr(fd, TCSAFLUSH, &saved);
    }
    if (line.size() > 4096) {
        throw Error(Exit::usage, "the client secret is longer than 4096 bytes");
    }
    return checked_secret(std::move(line));
}

std::string read_secret_line(std::istream& in, std::size_t limit) {
    std::string line;
    char c = 0;
    while (in.get(c) && c != '\n') {
        if (line.size() >= limit) {
            throw Error(Exit::usage, "the client secret on standard input is longer than " +
                                         std::to_string(limit) + " bytes");
        }
        line.push_back(c);
    }
    return checked_secret(std::move(line));
}

} // namespace iotspot::cli
