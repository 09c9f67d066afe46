// configure: writes a profile and stores its secret encrypted.

#include <unistd.h>

#include "cli/context.h"
#include "cli/standard_input.h"
#include "cli/terminal.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/settings.h"
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

// What `configure` stores for `setting` given `value` on the command line: the value
// checked, with a file name made absolute once it can be read; nullopt for "none" where that
// removes the setting.
std::optional<std::string> flag_value(const core::Setting& setting, const std::string& value) {
    if (setting.removable && value == "none") {
        return std::nullopt;
    }
    std::string checked = core::validate_setting(setting.key, value);
    if (setting.type != core::SettingType::file) {
        return checked;
    }
    if (::access(checked.c_str(), R_OK) != 0) {
        throw Error(Exit::usage, "cannot read " + checked + "; give a readable " + setting.summary);
    }
    return absolute(checked);
}

// Applies the command-line settings to `settings`, validating each.
void apply_flags(const Invocation& inv, core::ProfileSettings& settings) {
    for (const auto& setting : core::all_settings) {
        if (const auto value = inv.value(setting.option)) {
            settings.*setting.stored = flag_value(setting, *value);
        }
    }
}

// The Redis password to store for the profile: the next line of standard input with
// --redis-password-stdin, else asked on the terminal when a shared cache names a user.
std::optional<std::string> redis_password(const Invocation& inv, const core::Profile& profile) {
    if (inv.has("redis-password-stdin")) {
        if (!profile.shared_cache) {
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
    if (inv.value("shared-cache") && profile.shared_cache && !profile.shared_cache->user.empty() &&
        have_terminal()) {
        return read_secret_from_terminal("Redis password for " + profile.shared_cache->text() +
                                         ": ");
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

    const core::Profile written = core::resolve_profile(name, config, core::Environment{});
    if (const auto password = redis_password(ctx.invocation, written)) {
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
