#include "net/https_token_client.h"

#include <cstdlib>
#include <ctime>
#include <istream>
#include <memory>
#include <mutex>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/InvalidCertificateHandler.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/VerificationErrorArgs.h>
#include <Poco/URI.h>

#include "net/token_reply.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::Exit;
using core::FetchResult;

constexpr std::size_t max_answer_bytes = 1 << 20;

// Refuses every certificate that failed verification, keeping OpenSSL's reason so the
// message can say why. It never accepts one.
class RejectAndRemember : public Poco::Net::InvalidCertificateHandler {
public:
    RejectAndRemember() : InvalidCertificateHandler(false) {}
    void onInvalidCertificate(const void*, Poco::Net::VerificationErrorArgs& args) override {
        std::lock_guard<std::mutex> guard(mutex_);
        last_reason_ = args.errorMessage();
        args.setIgnoreError(false);
    }
    std::string take_reason() {
        std::lock_guard<std::mutex> guard(mutex_);
        return std::exchange(last_reason_, {});
    }

private:
    std::mutex mutex_;
    std::string last_reason_;
};

// Owned by SSLManager once installed; lives until the process exits.
RejectAndRemember* const certificate_handler = new RejectAndRemember;

std::string env(const char* upper, const char* lower) {
    if (const char* value = std::getenv(upper); value && *value) {
        return value;
    }
    if (const char* value = std::getenv(lower); value && *value) {
        return value;
    }
    return {};
}

Poco::Net::Context::Ptr make_context(const std::string& ca_file) {
    using Poco::Net::Context;
    Context::Params params;
    params.verificationMode = Context::VERIFY_STRICT;
    params.loadDefaultCAs = true;
    params.caLocation = ca_file;
    params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4";
    Context::Ptr context = new Context(Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Context::PROTO_TLSV1_2);
    context->enableExtendedCertificateVerification(true);
    return context;
}

std::string form_encode(const std::string& value) {
    std::string out;
    Poco::URI::encode(value, "!'()*+,;=:/?#[]@$&", out);
    return out;
}

FetchResult network_failure(std::string message, bool retryable) {
    FetchResult result;
    result.code = Exit::network;
    result.message = std::move(message);
    result.retryable = retryable;
    return result;
}

} // namespace

std::optional<Proxy> proxy_for(const std::string& host) {
    const std::string proxy = env("HTTPS_PROXY", "https_proxy");
    if (proxy.empty()) {
        return std::nullopt;
    }
    const std::string no_proxy = env("NO_PROXY", "no_proxy");
    for (auto entry : util::split(no_proxy, ',')) {
        entry = util::trim(entry);
        if (entry == "*") {
            return std::nullopt;
        }
        if (!entry.empty() && entry.front() == '.') {
            entry.remove_prefix(1);
        }
        if (entry.empty()) {
            continue;
        }
        const std::string name = util::ascii_lower(host);
        const std::string suffix = util::ascii_lower(entry);
        if (name == suffix ||
            (name.size() > suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
             name[name.size() - suffix.size() - 1] == '.')) {
            return std::nullopt;
        }
    }
    try {
        const Poco::URI uri(proxy.find("://") == std::string::npos ? "http://" + proxy : proxy);
        Proxy result;
        result.host = uri.getHost();
        result.port = uri.getPort() != 0 ? uri.getPort() : 80;
        const auto user_info = uri.getUserInfo();
        const auto colon = user_info.find(':');
        if (!user_info.empty()) {
            Poco::URI::decode(user_info.substr(0, colon), result.username);
            if (colon != std::string::npos) {
                Poco::URI::decode(user_info.substr(colon + 1), result.password);
            }
        }
        return result;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

struct HttpsTokenClient::Connection {
    std::string host;
    unsigned short port = 0;
    std::string ca_file;
    std::optional<Proxy> proxy;
    std::unique_ptr<Poco::Net::HTTPSClientSession> session;

    bool serves(const Poco::URI& uri, const std::string& ca,
                const std::optional<Proxy>& via) const {
        const auto same_proxy = [&] {
            if (!proxy || !via) {
                return !proxy && !via;
            }
            return proxy->host == via->host && proxy->port == via->port &&
                   proxy->username == via->username && proxy->password == via->password;
        };
        return host == uri.getHost() && port == uri.getPort() && ca_file == ca && same_proxy();
    }

    // An idle kept-alive connection has nothing to read; if it has, the server closed it
    // (or sent something unasked for) and it must not be used.
    bool still_open() const {
        try {
            return session->connected() &&
                   !session->socket().poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ);
        } catch (const Poco::Exception&) {
            return false;
        }
    }
};

HttpsTokenClient::HttpsTokenClient() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> handler(certificate_handler);
        Poco::Net::SSLManager::instance().initializeClient(nullptr, handler, make_context(""));
    });
}

HttpsTokenClient::~HttpsTokenClient() = default;

namespace {

// How far an exchange got: a TLS error while connecting is a certificate or protocol
// problem; once the request is out, it means the server went away without a proper close.
enum class Phase { connecting, awaiting_answer, reading_answer };

// One request and its answer on `session`. `complete` tells whether the answer was read to
// its end, so the connection may carry the next request; `closed_early` whether the server
// closed the connection before any answer (a kept-alive connection that timed out).
FetchResult exchange(Poco::Net::HTTPSClientSession& session, const core::TokenRequest& request,
                     const Poco::URI& uri, const core::Log& log, bool& complete,
                     bool& closed_early) {
    const std::string where = uri.getHost() + ":" + std::to_string(uri.getPort());
    Phase phase = Phase::connecting;
    const auto went_away = [&] {
        if (phase == Phase::reading_answer) {
            return network_failure(
                "the token server's answer was cut short (connection closed early)", true);
        }
        closed_early = true;
        return network_failure(
            "the token server " + where + " closed the connection without an answer", true);
    };
    try {
        const Poco::Timespan timeout(request.timeout_seconds, 0);
        session.setTimeout(timeout, timeout, timeout);

        Poco::Net::HTTPRequest http(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathEtc(),
                                    Poco::Net::HTTPMessage::HTTP_1_1);
        Poco::Net::HTTPBasicCredentials(request.client_id, request.client_secret)
            .authenticate(http);
        http.setContentType("application/x-www-form-urlencoded");
        http.set("Accept", "application/json");
        http.set("User-Agent", "iotspot-helper");
        const std::string body =
            "grant_type=client_credentials&client_id=" + form_encode(request.client_id) +
            "&scope=" + form_encode(request.scope);
        http.setContentLength(static_cast<std::streamsize>(body.size()));
        std::ostream& out = session.sendRequest(http);
        // sendRequest has connected and completed the TLS handshake.
        phase = Phase::awaiting_answer;
        out << body;

        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        phase = Phase::reading_answer;
        HttpAnswer answer;
        answer.status = static_cast<int>(response.getStatus());
        for (const auto& [name, value] : response) {
            answer.headers[util::ascii_lower(name)] = value;
        }
        char buffer[8192];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            answer.body.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (answer.body.size() > max_answer_bytes) {
                return network_failure(
                    "the token server's answer is larger than 1 MiB; check token_url", false);
            }
        }
        if (response.hasContentLength() &&
            static_cast<std::int64_t>(answer.body.size()) < response.getContentLength64()) {
            answer.truncated = true;
        }
        complete = !answer.truncated && response.getKeepAlive();
        log.note("token server " + where + " answered HTTP " + std::to_string(answer.status));
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        FetchResult result = interpret_answer(answer, request.scope, now);
        if (const auto date = answer.headers.find("date"); date != answer.headers.end()) {
            result.server_date = parse_http_date(date->second);
        }
        return result;
    } catch (const Poco::Net::SSLException& error) {
        if (phase != Phase::connecting) {
            return went_away();
        }
        std::string reason = certificate_handler->take_reason();
        if (reason.empty()) {
            reason = error.message().empty() ? error.displayText() : error.message();
        }
        return network_failure("TLS with " + where + " failed: " + reason +
                                   "; if the server uses a private CA, pass it with configure "
                                   "--ca-file",
                               false);
    } catch (const Poco::TimeoutException&) {
        return network_failure("the token server " + where + " did not answer within " +
                                   std::to_string(request.timeout_seconds) + " s",
                               true);
    } catch (const Poco::Net::NoMessageException&) {
        return went_away();
    } catch (const Poco::Net::ConnectionResetException&) {
        if (phase != Phase::connecting) {
            return went_away();
        }
        return network_failure("the token server " + where + " reset the connection", true);
    } catch (const Poco::Net::HostNotFoundException&) {
        return network_failure("cannot resolve " + uri.getHost() + "; check token_url and your DNS",
                               true);
    } catch (const Poco::Net::ConnectionRefusedException&) {
        return network_failure(
            "connection to the token server " + where + " was refused; check token_url", true);
    } catch (const Poco::Exception& error) {
        return network_failure(
            "cannot reach the token server " + where + ": " + error.displayText(), true);
    } catch (const std::exception& error) {
        return network_failure(std::string("token request failed: ") + error.what(), false);
    }
}

} // namespace

FetchResult HttpsTokenClient::fetch(const core::TokenRequest& request, const core::Log& log) {
    Poco::URI uri;
    try {
        uri = Poco::URI(request.token_url);
    } catch (const Poco::Exception&) {
        return network_failure("token_url is not a valid URL; run iotspot-helper configure", false);
    }
    if (uri.getScheme() != "https") {
        return network_failure("token_url must be https://", false);
    }
    const std::string where = uri.getHost() + ":" + std::to_string(uri.getPort());
    const auto proxy = proxy_for(uri.getHost());
    bool complete = false;
    bool closed_early = false;

    if (connection_ && connection_->serves(uri, request.ca_file, proxy) &&
        connection_->still_open()) {
        log.note("reusing the connection to " + where);
        FetchResult result =
            exchange(*connection_->session, request, uri, log, complete, closed_early);
        if (!closed_early) {
            if (!complete) {
                connection_.reset();
            }
            return result;
        }
        // The server closed the idle connection just as the request went out: the request
        // never got an answer, so it is sent again on a new connection, as browsers do.
        log.note("the token server closed the kept-alive connection; reconnecting");
    }
    connection_.reset();

    try {
        auto connection = std::make_unique<Connection>();
        connection->host = uri.getHost();
        connection->port = uri.getPort();
        connection->ca_file = request.ca_file;
        connection->proxy = proxy;
        connection->session = std::make_unique<Poco::Net::HTTPSClientSession>(
            uri.getHost(), uri.getPort(), make_context(request.ca_file));
        connection->session->setKeepAlive(true);
        if (proxy) {
            log.note("using proxy " + proxy->host + ":" + std::to_string(proxy->port));
            connection->session->setProxy(proxy->host, proxy->port);
            if (!proxy->username.empty()) {
                connection->session->setProxyCredentials(proxy->username, proxy->password);
            }
        }
        connection_ = std::move(connection);
    } catch (const Poco::Net::SSLException& error) {
        return network_failure(
            "TLS with " + where +
                " failed: " + (error.message().empty() ? error.displayText() : error.message()) +
                "; if the server uses a private CA, pass it with configure "
                "--ca-file",
            false);
    } catch (const std::exception& error) {
        return network_failure(std::string("token request failed: ") + error.what(), false);
    }

    complete = false;
    closed_early = false;
    FetchResult result = exchange(*connection_->session, request, uri, log, complete, closed_early);
    if (!complete) {
        connection_.reset();
    }
    return result;
}

} // namespace iotspot::net
