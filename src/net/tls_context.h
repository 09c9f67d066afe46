#pragma once
// The client TLS contexts: one per process and CA file, built on first use and shared by
// every client and thread (OpenSSL's SSL_CTX is safe to share once set up). Verification is
// always strict: the peer's chain must lead to a trusted CA, and the certificate must name
// the host (Poco's extended verification, also on loopback).
//
// The system trust store is OpenSSL's hashed directory (/etc/ssl/certs on Debian, or
// $SSL_CERT_DIR), which OpenSSL reads lazily, one issuer at a time, instead of parsing the
// whole bundle of some 140 certificates on every cache miss. $SSL_CERT_FILE, when set, and
// the profile's ca_file are loaded in full.

#include <stdexcept>
#include <string>

#include <Poco/Net/Context.h>

namespace iotspot::net {

/// A context that could not be built; what() is the message for the user.
class TlsSetupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The context that trusts the system store plus `ca_file` (may be empty). Throws
/// TlsSetupError naming the file when `ca_file` cannot be read or holds no certificate.
Poco::Net::Context::Ptr client_context(const std::string& ca_file);

/// Forgets why the last handshake on this thread failed verification; call before one.
void forget_verify_failure();

/// Why certificate verification failed in the last handshake on this thread ("certificate
/// has expired"), or empty. OpenSSL runs the verify callback on the thread that does the
/// handshake, so the reason is kept per thread and never crosses to another client.
std::string take_verify_failure();

} // namespace iotspot::net
