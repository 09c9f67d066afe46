// configure: writes a profile and stores its secret encrypted.

#include <unistd.h>

#include "cli/context.h"
#include "cli/standard_input.h"
#include "cli/terminal.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/shared_cache.h"
#include "service/shared_tier.h"
#include "store/files.h"
#include "store/key_file.h"
#include "store/secret_store.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

std::string absolute(const std::string& path) {
    if (!path.empty() && path.front() == '/') {
        return path;
    }
    char buffer[4096];
    const char* cwd = ::getcwd(buffer, sizeof buffer);
    return cwd ? std::string(cwd) + "/" + path : path;
}

// Applies the command-line settings to `settings`, validating each.
void apply_flags(const Invocation& inv, core::ProfileSettings& settings) {
    const auto take = [&](const char* flag, const char* key, std::optional<std::string>& slot) {
        if (auto value = inv.value(flag)) {
            slot = core::validate_setting(key, *value);
        }
    };
    take("client-id", "client_id", settings.client_id);
    take("token-url", "token_url", settings.token_url);
    take("scope", "scope", settings.scope);
    take("api-url", "api_url", settings.api_url);
    take("request-price", "request_price", settings.request_price);
    if (auto file = inv.value("ca-file")) {
        core::validate_setting("ca_file", *file);
        if (::access(file->c_str(), R_OK) != 0) {
            throw Error(Exit::usage, "cannot read CA file " + *file + "; give a readable PEM file");
        }
        settings.ca_file = absolute(*file);
    }
    if (auto margin = inv.value("refresh-margin")) {
        core::validate_setting("refresh_margin", *margin);
        settings.refresh_margin = std::stoll(*margin);
    }
    if (auto url = inv.value("shared-cache")) {
        if (*url == "none") {
            settings.shared_cache.reset();
        } else {
            settings.shared_cache = core::validate_setting("shared_cache", *url);
        }
    }
}

// The Redis password to store for the profile: the next line of standard input with
// --redis-password-stdin, else asked on the terminal when a shared cache names a user.
std::optional<std::string> redis_password(const Invocation& inv,
                                          const core::ProfileSettings& settings) {
    if (inv.has("redis-password-stdin")) {
        if (!settings.shared_cache) {
            throw Error(Exit::usage, "--redis-password-stdin needs a shared cache: add "
                                     "--shared-cache redis://[user@]host:port");
        }
        try {
            return read_secret_line(standard_input());
        } catch (const Error&) {
            throw Error(Exit::usage, "--redis-password-stdin found no usable password on the "
                                     "line after the client secret's (empty, too long, or with "
                                     "control characters)");
        }
    }
    if (inv.value("shared-cache") && settings.shared_cache &&
        core::parse_shared_cache_url(*settings.shared_cache).user.size() > 0 && have_terminal()) {
        return read_secret_from_terminal("Redis password for " + *settings.shared_cache + ": ");
    }
    return std::nullopt;
}

// A new client secret replaces both of a rotation; --next-client-secret-stdin stores the
// next one from the following line of standard input.
void store_next_secret(const Invocation& inv, store::SecretStore& secrets, const std::string& name,
                       const std::string& client_id, const core::Key& key, bool replaced) {
    const auto slot = store::next_secret_slot(name);
    if (!inv.has("next-client-secret-stdin")) {
        if (replaced) {
            secrets.erase(slot);
        }
        return;
    }
    std::optional<std::string> next;
    try {
        next = read_secret_line(standard_input());
    } catch (const Error&) {
        throw Error(Exit::usage, "--next-client-secret-stdin found no usable secret on its line "
                                 "of standard input (empty, too long, or with control "
                                 "characters)");
    }
    secrets.save(slot, client_id, key, *next);
}

} // namespace

int configure_command(Context& ctx) {
    const std::string name = ctx.profile_name();
    core::ConfigFile config = ctx.config();
    const bool existed = config.profiles.count(name) != 0;
    core::ProfileSettings& settings = config.profiles[name];
    const auto old_client_id = settings.client_id;
    apply_flags(ctx.invocation, settings);
    if (!settings.client_id) {
        throw Error(Exit::usage, "profile \"" + name +
                                     "\" needs a client id: iotspot-helper configure" +
                                     (name == "default" ? std::string() : " --profile " + name) +
                                     " --client-id ID");
    }

    std::optional<std::string> secret;
    if (ctx.invocation.has("client-secret-stdin")) {
        secret = read_secret_line(standard_input());
    } else if (have_terminal() && !ctx.invocation.has("next-client-secret-stdin")) {
        secret = read_secret_from_terminal("Client secret for " + *settings.client_id + ": ");
    }

    store::ensure_private_dir(ctx.paths.data_dir);
    const core::Key key = store::load_or_create_key(ctx.paths.key_file());
    store::SecretStore secrets(ctx.paths.secret_db());
    if (!secret) {
        const bool same_client = existed && old_client_id == settings.client_id;
        const auto kept = same_client ? secrets.load(name, *settings.client_id, key)
                                      : store::SecretStore::Lookup{};
        if (kept.status != store::SecretStore::Status::found) {
            throw Error(Exit::usage, "no terminal to read the client secret from; pipe it in with "
                                     "--client-secret-stdin");
        }
    } else {
        secrets.save(name, *settings.client_id, key, *secret);
    }
    store_next_secret(ctx.invocation, secrets, name, *settings.client_id, key, secret.has_value());

    if (const auto password = redis_password(ctx.invocation, settings)) {
        const auto slot = service::redis_password_slot(name);
        if (password->empty()) {
            secrets.erase(slot);
        } else {
            secrets.save(slot, *settings.client_id, key, *password);
        }
    }

    store::ensure_private_dir(ctx.paths.config_dir);
    store::write_file_atomic(ctx.paths.config_file(), core::render_config(config), "config file");
    ctx.service.forget_token(name);
    ctx.service.forget_secret_use(name);
    print("Profile \"" + name + "\" configured for client " + *settings.client_id +
          (secret ? "; secret stored encrypted." : "; stored secret kept.") +
          (ctx.invocation.has("next-client-secret-stdin")
               ? " Next secret stored: it is tried first, the other when it is refused."
               : "") +
          " Try: iotspot-helper" + (name == "default" ? std::string() : " --profile " + name) +
          " token\n");
    return 0;
}

} // namespace iotspot::cli
