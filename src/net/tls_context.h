#pragma once
// The client TLS policy, which every TLS context of the modules follows (the token client's,
// made per connection by libcurl, net/curl_session.h; the shared cache's, cached per CA file).
// Verification is always strict: the peer's chain must lead to a trusted CA, and the certificate
// must name the host (net/curl_session.h).
//
// The system trust store is OpenSSL's hashed directory (/etc/ssl/certs on Debian, or
// $SSL_CERT_DIR), which OpenSSL reads lazily, one issuer at a time, instead of parsing the
// whole bundle of some 140 certificates on every cache miss. $SSL_CERT_FILE, when set, and
// the profile's ca_file are loaded in full.

#include <map>
#include <mutex>
#include <openssl/ssl.h>
#include <string>

#include "core/error.h"
#include "util/result.h"

namespace iotspot::net {

/// A context that could not be built (exit 5, like any TLS failure); what() is the message
/// for the user, naming the file at fault.
class TlsSetupError : public core::Error {
public:
    explicit TlsSetupError(const std::string& message)
        : core::Error(core::Exit::network, message) {}
};

/// Applies the client policy to `context`: TLS 1.2 or later, strong ciphers, the peer
/// verified (keeping the reason of a failure for take_verify_failure()), trusting the system
/// store plus `ca_file` (may be empty). Fails with the message naming a file that cannot be
/// used. Also used for the shared cache's Poco context (net/poco_tls_context.h).
util::Result<void> apply_client_policy(SSL_CTX* context, const std::string& ca_file);

/// What identifies the version of `ca_file` that a context was built from (a long-running
/// serve or prefetch picks up a replaced file): empty for no file. Fails with the message
/// naming the file when it cannot be read.
util::Result<std::string> ca_file_key(const std::string& ca_file);

/// The context for `ca_file` (may be empty) that `make(ca_file)` built on the first call for
/// this version of the file (ca_file_key), one per process for each kind of Context; never
/// freed: contexts live as long as the process, like the module. Throws TlsSetupError when
/// `ca_file` cannot be read.
template <typename Context, typename Make>
Context cached_context(const std::string& ca_file, Make make) {
    static auto* const contexts = new std::map<std::string, Context>;
    static std::mutex mutex;
    const auto version = ca_file_key(ca_file);
    if (!version) {
        throw TlsSetupError(version.error());
    }
    const std::string& key = version.value();
    std::lock_guard<std::mutex> guard(mutex);
    if (const auto found = contexts->find(key); found != contexts->end()) {
        return found->second;
    }
    Context context = make(ca_file);
    contexts->emplace(key, context);
    return context;
}

/// The verify callback of apply_client_policy: keeps OpenSSL's reason for the first
/// certificate that failed (take_verify_failure()); never changes the verdict. A context
/// with a verify callback of its own calls it last (net/curl_session.cpp).
int remember_verify_failure(int ok, X509_STORE_CTX* store);

/// Forgets why the last handshake on this thread failed verification; call before one.
void forget_verify_failure();

/// Why certificate verification failed in the last handshake on this thread ("certificate
/// has expired"), or empty. OpenSSL runs the verify callback on the thread that does the
/// handshake, so the reason is kept per thread and never crosses to another client.
std::string take_verify_failure();

} // namespace iotspot::net
