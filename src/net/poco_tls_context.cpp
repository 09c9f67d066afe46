#include "net/poco_tls_context.h"

#include <map>
#include <mutex>

#include <Poco/Net/NetSSL.h>

#include "net/tls_context.h"

namespace iotspot::net {

Poco::Net::Context::Ptr poco_client_context(const std::string& ca_file) {
    static std::once_flag initialised;
    std::call_once(initialised, [] { Poco::Net::initializeSSL(); });
    // Never destroyed: contexts live as long as the process, like the module.
    static auto* const contexts = new std::map<std::string, Poco::Net::Context::Ptr>;
    static std::mutex mutex;
    const std::string key = ca_file_key(ca_file);
    std::lock_guard<std::mutex> guard(mutex);
    if (const auto found = contexts->find(key); found != contexts->end()) {
        return found->second;
    }
    using Poco::Net::Context;
    Context::Params params;
    params.verificationMode = Context::VERIFY_STRICT;
    params.loadDefaultCAs = false; // apply_client_policy: the hashed directory
    Context::Ptr context = new Context(Context::TLS_CLIENT_USE, params);
    context->enableExtendedCertificateVerification(true);
    apply_client_policy(context->sslContext(), ca_file);
    contexts->emplace(key, context);
    return context;
}

} // namespace iotspot::net
