#include "net/tls_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iotspot::net {

namespace {

using Kind = SocketError::Kind;

Kind kind_of(int error) {
    switch (error) {
    case ECONNREFUSED:
        return Kind::refused;
    case EAGAIN:
    case ETIMEDOUT:
    case EINPROGRESS:
        return Kind::timed_out;
    case 0: // an end of stream in the middle of TLS
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ECONNABORTED:
        return Kind::closed;
    default:
        return Kind::other;
    }
}

// The error of a failed system call (or, for 0, of a stream that ended mid-TLS).
SocketError errno_error(const char* doing, int error) {
    if (error == EWOULDBLOCK) {
        error = EAGAIN;
    }
    return SocketError(kind_of(error),
                       std::string(doing) + ": " +
                           (error == 0 ? "the connection was closed" : std::strerror(error)));
}

bool is_ip_literal(const std::string& host) {
    unsigned char address[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), address) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

} // namespace

SigpipeBlocked::SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
}

SigpipeBlocked::~SigpipeBlocked() {
    if (!was_pending_) {
        const timespec none{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &none) > 0) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

TlsSocket::TlsSocket(const Address& address, const Deadline& deadline) {
    fd_ = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
        throw errno_error("socket", errno);
    }
    try {
        if (::connect(fd_, address.get(), address.length) != 0) {
            if (errno != EINPROGRESS) {
                throw errno_error("connect", errno);
            }
            pollfd wanted{fd_, POLLOUT, 0};
            int ready;
            do {
                ready = ::poll(&wanted, 1, static_cast<int>(deadline.remaining().count()));
            } while (ready < 0 && errno == EINTR && !deadline.passed());
            if (ready == 0 || (ready < 0 && errno == EINTR)) {
                throw SocketError(Kind::timed_out, "connect: no answer in time");
            }
            if (ready < 0) {
                throw errno_error("connect", errno);
            }
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) {
                throw errno_error("connect", error);
            }
        }
        const int flags = ::fcntl(fd_, F_GETFL);
        ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
        // The request follows the handshake's last flight at once; with Nagle's algorithm it
        // would wait for the server's delayed ACK (up to 40 ms), as curl knows.
        const int on = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        set_timeouts(deadline);
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

TlsSocket::~TlsSocket() {
    if (ssl_ != nullptr) {
        if (healthy_) {
            const SigpipeBlocked no_sigpipe;
            SSL_shutdown(ssl_); // close_notify, without waiting for the server's
        }
        SSL_free(ssl_);
    }
    ::close(fd_);
}

void TlsSocket::set_timeouts(const Deadline& deadline) {
    const auto left = deadline.remaining();
    timeval bound{};
    bound.tv_sec = static_cast<time_t>(left.count() / 1000);
    bound.tv_usec = static_cast<suseconds_t>((left.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
}

SocketError TlsSocket::error_of(const char* doing, int result) {
    healthy_ = false;
    const int saved_errno = errno;
    const int error = SSL_get_error(ssl_, result);
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_WANT_READ ||
        error == SSL_ERROR_WANT_WRITE) {
        return errno_error(doing, saved_errno);
    }
    if (error == SSL_ERROR_ZERO_RETURN ||
        (ERR_GET_LIB(code) == ERR_LIB_SSL &&
         ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        return errno_error(doing, 0);
    }
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    return SocketError(Kind::tls, reason != nullptr ? reason : "TLS failed");
}

void TlsSocket::handshake(SSL_CTX* context, const std::string& host) {
    ssl_ = SSL_new(context);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
        throw SocketError(Kind::other, "cannot set up TLS");
    }
    // The certificate must name the host: a DNS name (no partial wildcards), or the IP
    // address of a literal, which is never sent as SNI (RFC 6066). SNI is set through
    // SSL_ctrl: the SSL_set_tlsext_host_name macro casts in C style.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
            throw SocketError(Kind::other, "cannot set up TLS for " + host);
        }
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
            SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(host.c_str())) != 1) {
            throw SocketError(Kind::other, "cannot set up TLS for " + host);
        }
    }
    ERR_clear_error();
    const int result = SSL_connect(ssl_);
    if (result != 1) {
        throw error_of("TLS handshake", result);
    }
}

void TlsSocket::send(std::string_view data) {
    while (!data.empty()) {
        if (ssl_ == nullptr) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                healthy_ = false;
                throw errno_error("send", n < 0 ? errno : ECONNRESET);
            }
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        ERR_clear_error();
        std::size_t written = 0;
        const int result = SSL_write_ex(ssl_, data.data(), data.size(), &written);
        if (result != 1) {
            throw error_of("send", result);
        }
        data.remove_prefix(written);
    }
}

std::size_t TlsSocket::read(char* buffer, std::size_t size) {
    if (ssl_ == nullptr) {
        for (;;) {
            const ssize_t n = ::recv(fd_, buffer, size, 0);
            if (n >= 0) {
                return static_cast<std::size_t>(n);
            }
            if (errno == EINTR) {
                continue;
            }
            healthy_ = false;
            SocketError error = errno_error("receive", errno);
            if (error.kind() == Kind::closed) {
                return 0;
            }
            throw error;
        }
    }
    ERR_clear_error();
    std::size_t got = 0;
    const int result = SSL_read_ex(ssl_, buffer, size, &got);
    if (result == 1) {
        return got;
    }
    SocketError error = error_of("receive", result);
    if (error.kind() == Kind::closed) {
        return 0; // with or without close_notify: what arrived is judged by its framing
    }
    throw error;
}

bool TlsSocket::idle() const {
    if (!healthy_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) {
        return false;
    }
    pollfd readable{fd_, POLLIN, 0};
    return ::poll(&readable, 1, 0) == 0;
}

} // namespace iotspot::net
