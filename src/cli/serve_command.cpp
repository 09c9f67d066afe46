// serve: the local token endpoint for Postman-like tools (core/local_endpoint.h).

#include "cli/context.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/local_endpoint.h"
#include "core/output.h"
#include "server/local_server.h"
#include "store/files.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

// The per-user key of the endpoint: 64 hex characters, created on first use.
std::string serve_key(const core::Paths& paths) {
    store::ensure_private_dir(paths.data_dir);
    const std::string path = paths.data_dir + "/serve.key";
    store::check_private_file(path);
    const std::string key(
        util::trim(store::create_file_once(path, core::random_hex(32) + "\n", "serve key file")));
    if (key.size() != 64) {
        throw Error(Exit::store, "serve key file " + path +
                                     " is damaged; remove it and run "
                                     "iotspot-helper serve --print-key for a new key");
    }
    return key;
}

// Answers requests in parallel (the server calls it from several worker threads), each with
// a context of its own: the config file is read afresh for every request, so serve follows
// `configure` without a restart, and each request has its own token service, SQLite
// connections, token client and deadline (IOTSPOT_TIMEOUT). A hanging fetch for one profile
// therefore never holds up a cached token of another; two requests that refresh the same
// profile meet at its lock file, as two processes would.
class Handler : public core::LocalRequestHandler {
public:
    Handler(const Context& ctx, std::string key, int port)
        : ctx_(ctx), key_(std::move(key)), port_(port), default_profile_(ctx.profile_name()) {}

    core::LocalResponse handle(const core::LocalRequest& request) override {
        try {
            Context own(ctx_.invocation, ctx_.env);
            service::TokenService service(own.worker_deps());
            return core::answer_local_request(
                request, key_, port_, default_profile_,
                [&](const std::string& name) {
                    const auto token = service.get(own.profile(name), std::nullopt);
                    return core::format_json(token.access_token, token.times.expires_at,
                                             Context::now());
                },
                [&](const std::string& name) {
                    return service.forget_refused_token(own.profile(name));
                });
        } catch (const std::exception& error) {
            return core::LocalResponse{
                500,
                "{\"error\":\"internal\",\"message\":" + core::json_string(error.what()) + "}\n",
                "internal error"};
        }
    }

private:
    const Context& ctx_;
    const std::string key_;
    const int port_;
    const std::string default_profile_;
};

} // namespace

int serve_command(Context& ctx) {
    const std::string key = serve_key(ctx.paths);
    if (ctx.invocation.has("print-key")) {
        print(key + "\n");
        return 0;
    }
    int port = core::default_serve_port;
    if (const auto text = ctx.invocation.value("port")) {
        const auto number = util::parse_int(*text);
        if (!number || *number < 1 || *number > 65535) {
            throw Error(Exit::usage,
                        "--port takes a port number from 1 to 65535, not \"" + *text + "\"");
        }
        port = static_cast<int>(*number);
    }
    Handler handler(ctx, key, port);
    server::serve(port, handler, ctx.log);
    return 0;
}

} // namespace iotspot::cli
