// `iotspot-helper serve`: the local token endpoint over HTTP on 127.0.0.1, with Poco's
// HTTPServer. The policy (keys, Host, Origin, what to answer) is core::answer_local_request,
// reached through the executable's LocalRequestHandler.

#include <csignal>
#include <pthread.h>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include "core/local_endpoint.h"
#include "core/token_client.h"
#include "util/strings.h"

namespace {

using iotspot::core::LocalRequest;
using iotspot::core::LocalRequestHandler;
using iotspot::core::LocalResponse;

class Handler : public Poco::Net::HTTPRequestHandler {
public:
    Handler(LocalRequestHandler& handler, const iotspot::core::Log& log)
        : handler_(handler), log_(log) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        LocalRequest local;
        local.method = request.getMethod();
        local.target = request.getURI();
        for (const auto& [name, value] : request) {
            local.headers[iotspot::util::ascii_lower(name)] = value;
        }
        // The request body is never used; drain what was announced, a little at most.
        request.stream().ignore(64 * 1024);

        const LocalResponse answer = handler_.handle(local);
        const std::string path = local.target.substr(0, local.target.find('?'));
        log_.info("serve: " + request.clientAddress().host().toString() + " " + local.method + " " +
                  path + " -> " + std::to_string(answer.status) +
                  (answer.note.empty() ? "" : " (" + answer.note + ")"));

        response.setStatusAndReason(
            static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        response.setContentType("application/json");
        response.set("Cache-Control", "no-store");
        response.set("X-Content-Type-Options", "nosniff");
        if (answer.status == 405) {
            response.set("Allow", "GET");
        }
        response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
        response.send() << answer.body;
    }

private:
    LocalRequestHandler& handler_;
    const iotspot::core::Log& log_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Factory(LocalRequestHandler& handler, const iotspot::core::Log& log)
        : handler_(handler), log_(log) {}
    Poco::Net::HTTPRequestHandler*
    createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(handler_, log_);
    }

private:
    LocalRequestHandler& handler_;
    const iotspot::core::Log& log_;
};

} // namespace

extern "C" __attribute__((visibility("default"))) int
iotspot_net_serve(int abi, int port, LocalRequestHandler* handler, const iotspot::core::Log* log,
                  std::string* error) {
    if (abi != iotspot::core::token_client_abi) {
        *error = "the network module is from another version of iotspot-helper; reinstall it";
        return static_cast<int>(iotspot::core::Exit::network);
    }
    // Block SIGTERM and SIGINT in every thread the server starts, then wait for them here.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    try {
        Poco::Net::ServerSocket socket;
        socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true,
                    false);
        socket.listen(64);
        auto* params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(4);
        params->setMaxQueued(64);
        params->setKeepAlive(true);
        params->setTimeout(Poco::Timespan(10, 0));
        params->setServerName("iotspot-helper");
        // A pool of our own, joined before returning, so that the worker threads end (and
        // OpenSSL frees their per-thread state) before the process exits.
        Poco::ThreadPool pool(1, 4);
        Poco::Net::HTTPServer server(new Factory(*handler, *log), pool, socket, params);
        server.start();
        log->info("serving tokens on http://127.0.0.1:" + std::to_string(port) +
                  "/v1/token (stop with Ctrl-C)");
        int received = 0;
        sigwait(&stop_signals, &received);
        server.stopAll(true);
        pool.joinAll();
        log->info("stopped");
        return 0;
    } catch (const Poco::Net::NetException& e) {
        *error = "cannot listen on 127.0.0.1:" + std::to_string(port) + " (" + e.displayText() +
                 "); is another iotspot-helper serve running? Choose another port with --port";
    } catch (const Poco::Exception& e) {
        *error = "cannot serve on 127.0.0.1:" + std::to_string(port) + ": " + e.displayText();
    } catch (const std::exception& e) {
        *error = std::string("cannot serve: ") + e.what();
    }
    return static_cast<int>(iotspot::core::Exit::network);
}
