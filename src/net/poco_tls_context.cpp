#include "net/poco_tls_context.h"

#include <mutex>

#include <Poco/Net/NetSSL.h>

#include "net/tls_context.h"

namespace iotspot::net {

Poco::Net::Context::Ptr poco_client_context(const std::string& ca_file) {
    static std::once_flag initialised;
    std::call_once(initialised, [] { Poco::Net::initializeSSL(); });
    return cached_context<Poco::Net::Context::Ptr>(ca_file, [](const std::string& file) {
        using Poco::Net::Context;
        Context::Params params;
        params.verificationMode = Context::VERIFY_STRICT;
        params.loadDefaultCAs = false; // apply_client_policy: the hashed directory
        Context::Ptr context = new Context(Context::TLS_CLIENT_USE, params);
        context->enableExtendedCertificateVerification(true);
        if (const auto applied = apply_client_policy(context->sslContext(), file); !applied) {
            throw TlsSetupError(applied.error());
        }
        return context;
    });
}

} // namespace iotspot::net
