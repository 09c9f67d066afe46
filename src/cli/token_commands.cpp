// token, header, env, exec: the commands that hand out a token.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unistd.h>
#include <vector>

#include "cli/context.h"
#include "cli/run.h"
#include "core/error.h"
#include "core/output.h"
#include "store/secret_files.h"

namespace iotspot::cli {

namespace {

service::IssuedToken issue(Context& ctx) {
    const auto min_ttl = ctx.invocation.seconds("min-ttl");
    const core::Profile profile = ctx.profile();
    return ctx.service.get(profile, min_ttl);
}

// Gets a token and prints it as `--json` asks, or else as `plain` formats it.
int hand_out(Context& ctx, const std::function<std::string(const service::IssuedToken&)>& plain) {
    const auto token = issue(ctx);
    print(ctx.invocation.has("json")
              ? core::format_json(token.access_token, token.times.expires_at, Context::now())
              : plain(token));
    return 0;
}

} // namespace

int token_command(Context& ctx) {
    return hand_out(
        ctx, [](const service::IssuedToken& t) { return core::format_token(t.access_token); });
}

int header_command(Context& ctx) {
    return hand_out(
        ctx, [](const service::IssuedToken& t) { return core::format_header(t.access_token); });
}

int env_command(Context& ctx) {
    const std::string shell_name = ctx.invocation.value("shell").value_or("sh");
    const auto shell = core::parse_shell(shell_name);
    if (!shell) {
        throw core::Error(core::Exit::usage, "unknown shell \"" + shell_name +
                                                 "\"; use sh, bash, zsh, dash, fish or powershell");
    }
    return hand_out(ctx, [&shell](const service::IssuedToken& t) {
        return core::format_env(t.access_token, t.times.expires_at, *shell);
    });
}

int exec_command(Context& ctx) {
    const auto& args = ctx.invocation.arguments;
    if (args.empty()) {
        throw core::Error(core::Exit::usage,
                          "exec needs a command: iotspot-helper exec -- COMMAND [ARGS...]");
    }
    if (ctx.invocation.has("keep-fresh")) {
        if (ctx.invocation.has("min-ttl")) {
            throw core::Error(core::Exit::usage,
                              "--min-ttl does not apply with --keep-fresh, whose file is "
                              "refreshed at the profile's refresh_margin; set that with "
                              "iotspot-helper configure --refresh-margin SECONDS");
        }
        return exec_keep_fresh_command(ctx);
    }
    if (ctx.invocation.has("on-refresh")) {
        throw core::Error(core::Exit::usage, "--on-refresh needs --keep-fresh: without it, the "
                                             "variables are set once and never refreshed");
    }
    const auto token = issue(ctx);
    // The command gets the token, never the client secret the token was made with.
    for (const char* name : store::secret_variables) {
        ::unsetenv(name);
    }
    ::setenv("IOTSPOT_ACCESS_TOKEN", token.access_token.c_str(), 1);
    ::setenv("IOTSPOT_TOKEN_EXPIRES_AT", std::to_string(token.times.expires_at).c_str(), 1);
    std::vector<char*> argv;
    for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    std::fflush(nullptr);
    restore_core_limit();
    ::execvp(argv[0], argv.data());
    const int error = errno;
    const bool missing = error == ENOENT || error == ENOTDIR;
    ctx.log.warning("cannot run " + args[0] + ": " + std::strerror(error) +
                    (missing ? "; check the command name and PATH" : ""));
    return missing ? 127 : 126;
}

} // namespace iotspot::cli
