#include "net/tls_context.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "util/fd.h"

namespace iotspot::net {

namespace {

thread_local std::string verify_failure;

std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return "no PEM certificate in it";
    }
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    return buffer;
}

} // namespace

int remember_verify_failure(int ok, X509_STORE_CTX* store) {
    if (ok == 0 && verify_failure.empty()) {
        verify_failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    }
    return ok;
}

util::Result<std::string> ca_file_key(const std::string& ca_file) {
    if (ca_file.empty()) {
        return std::string();
    }
    // Refuses a ca_file that cannot be read, naming it, before OpenSSL sees it.
    const util::Fd fd(::open(ca_file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!fd || ::fstat(fd.get(), &info) != 0) {
        return util::Failure{"cannot read the CA file " + ca_file + " (" + std::strerror(errno) +
                             "); point the profile at the right file with iotspot-helper "
                             "configure --ca-file"};
    }
    return ca_file + "\n" + std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" +
           std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
           std::to_string(info.st_mtim.tv_nsec);
}

util::Result<void> apply_client_policy(SSL_CTX* context, const std::string& ca_file) {
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(context, "HIGH:!aNULL:!eNULL:!MD5:!RC4") != 1) {
        return util::Failure{"cannot set up TLS: " + openssl_reason()};
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, remember_verify_failure);
    const char* dir = std::getenv(X509_get_default_cert_dir_env());
    if (dir == nullptr || *dir == '\0') {
        dir = X509_get_default_cert_dir();
    }
    if (SSL_CTX_load_verify_locations(context, nullptr, dir) != 1) {
        return util::Failure{std::string("cannot use the system CA directory ") + dir + ": " +
                             openssl_reason()};
    }
    if (const char* file = std::getenv(X509_get_default_cert_file_env()); file && *file) {
        if (SSL_CTX_load_verify_locations(context, file, nullptr) != 1) {
            return util::Failure{std::string("cannot load the CA file ") + file +
                                 " named by SSL_CERT_FILE: " + openssl_reason()};
        }
    }
    if (!ca_file.empty() && SSL_CTX_load_verify_locations(context, ca_file.c_str(), nullptr) != 1) {
        return util::Failure{"cannot load the CA file " + ca_file + " (" + openssl_reason() +
                             "); it must hold PEM certificates; fix it with iotspot-helper "
                             "configure --ca-file"};
    }
    return {};
}

void forget_verify_failure() {
    verify_failure.clear();
}

std::string take_verify_failure() {
    return std::exchange(verify_failure, {});
}

} // namespace iotspot::net
