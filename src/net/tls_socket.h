#pragma once
// A TCP connection with TLS on top, on OpenSSL directly: connect within a deadline, plain
// bytes before the handshake (an HTTP proxy's CONNECT), the handshake with certificate and
// host-name verification (SNI for names, the IP address checked for literals), then
// encrypted reads and writes. Every blocking call is bounded by the socket timeouts set from
// a Deadline, and a Watchdog (net/deadline.h) may shut the socket down at any time.

#include <csignal>
#include <cstddef>
#include <openssl/ssl.h>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/deadline.h"
#include "net/http_response.h"

namespace iotspot::net {

/// What went wrong on a socket; what() says it in words.
class SocketError : public std::runtime_error {
public:
    enum class Kind {
        refused,   ///< nothing listens there
        closed,    ///< the peer closed or reset the connection, or cut TLS short
        timed_out, ///< a socket timeout passed
        tls,       ///< the handshake or a TLS record failed; what() is OpenSSL's reason
        other,
    };
    SocketError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

/// Blocks SIGPIPE on this thread while it lives and discards one raised meanwhile (as libpq
/// does): a write to a socket that the server or the watchdog has shut down must fail with
/// EPIPE, not end the process. Ignoring SIGPIPE process-wide would pass on to exec's child.
class SigpipeBlocked {
public:
    SigpipeBlocked();
    ~SigpipeBlocked();
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

private:
    sigset_t pipe_{};
    sigset_t previous_{};
    bool was_pending_ = false;
};

class TlsSocket final : public ByteSource {
public:
    /// Connects to `address` before `deadline`, with TCP_NODELAY. Throws SocketError.
    TlsSocket(const Address& address, const Deadline& deadline);
    ~TlsSocket() override;
    TlsSocket(const TlsSocket&) = delete;
    TlsSocket& operator=(const TlsSocket&) = delete;

    int fd() const { return fd_; }
    /// Bounds each later read and write by what is left of `deadline`.
    void set_timeouts(const Deadline& deadline);
    /// The TLS handshake with `host` (a name or an IP literal), verified as the context
    /// says (net/tls_context.h). Before it, reads and writes are plain. Throws SocketError.
    void handshake(SSL_CTX* context, const std::string& host);
    /// Writes all of `data`. Throws SocketError.
    void send(std::string_view data);
    /// ByteSource: at most `size` bytes, 0 when the peer has ended or reset the stream (with
    /// or without TLS's close_notify: the HTTP framing tells whether all arrived). Throws
    /// SocketError.
    std::size_t read(char* buffer, std::size_t size) override;
    /// Whether an idle connection is still good: nothing to read, no end of stream.
    bool idle() const;

private:
    /// The error of the failed TLS call that returned `result`.
    SocketError error_of(const char* doing, int result);

    int fd_ = -1;
    SSL* ssl_ = nullptr;
    bool healthy_ = true; ///< no error yet: the close may say goodbye (close_notify)
};

} // namespace iotspot::net
