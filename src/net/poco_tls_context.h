#pragma once
// The shared cache's TLS contexts (rediss://), for Poco::Net's SecureStreamSocket: one per
// process and CA file, with the same policy as the token client's (net/tls_context.h) and
// Poco's host-name check on top.

#include <string>

#include <Poco/Net/Context.h>

namespace iotspot::net {

/// The context that trusts the system store plus `ca_file` (may be empty). Throws
/// TlsSetupError naming the file when `ca_file` cannot be read or holds no certificate.
Poco::Net::Context::Ptr poco_client_context(const std::string& ca_file);

} // namespace iotspot::net
