#pragma once
// serve's HTTP server on 127.0.0.1 (`iotspot-helper serve`): POSIX sockets and poll(), no
// library, so serving a cached token loads neither Poco nor OpenSSL. What it answers is the
// handler's business (core/local_endpoint.h); this reads request heads, strictly and within
// bounds (server/http_request.h), and writes the answers.

#include "core/local_endpoint.h"
#include "core/log.h"

namespace iotspot::server {

/// Serves `handler` on 127.0.0.1:`port` until SIGTERM or SIGINT; the workers finish what
/// they hold. The handler is called from several threads at once. Throws core::Error
/// (network) when the port cannot be listened on.
void serve(int port, core::LocalRequestHandler& handler, const core::Log& log);

} // namespace iotspot::server
