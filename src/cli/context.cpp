#include "cli/context.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <pwd.h>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

#include "cli/net_module.h"
#include "core/error.h"
#include "store/files.h"

namespace iotspot::cli {

namespace {

std::string home_from_passwd() {
    const passwd* entry = ::getpwuid(::getuid());
    return entry != nullptr && entry->pw_dir != nullptr ? entry->pw_dir : "/";
}

service::ServiceDeps service_deps(const core::Environment& env, const core::Paths& paths,
                                  const core::Log& log) {
    service::ServiceDeps deps;
    deps.paths = paths;
    deps.env = env;
    deps.log = &log;
    deps.client = []() -> core::TokenClient& { return net_token_client(); };
    deps.now = &Context::now;
    deps.sleep = [](double seconds) {
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    };
    deps.jitter = [] {
        // One engine per thread: prefetch's workers retry concurrently.
        thread_local std::mt19937 engine{std::random_device{}()};
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
    deps.shared_cache = [](const core::SharedCacheSettings& settings) {
        return new_net_shared_cache(settings);
    };
    return deps;
}

} // namespace

Context::Context(const Invocation& inv, core::Environment environment)
    : invocation(inv), env(std::move(environment)),
      paths(core::resolve_paths(env, env.get("HOME") ? std::string() : home_from_passwd())),
      log(inv.has("verbose")), service(service_deps(env, paths, log)) {}

std::int64_t Context::now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

service::ServiceDeps Context::worker_deps() const {
    service::ServiceDeps deps = service_deps(env, paths, log);
    auto own = std::make_shared<std::unique_ptr<core::TokenClient>>();
    deps.client = [own]() -> core::TokenClient& {
        if (!*own) {
            *own = new_net_token_client();
        }
        return **own;
    };
    return deps;
}

std::string Context::profile_name() const {
    return core::select_profile_name(invocation.value("profile"), env);
}

const core::ConfigFile& Context::config() {
    if (!config_) {
        const std::string path = paths.config_file();
        const auto text = store::read_file(path, "config file");
        try {
            config_ = text ? core::parse_config(*text) : core::ConfigFile{};
        } catch (const core::ConfigSyntaxError& error) {
            throw core::Error(core::Exit::not_configured,
                              "config file " + path + ", " + error.what() +
                                  "; fix it, or run iotspot-helper configure");
        }
    }
    return *config_;
}

std::vector<std::string> Context::configured_profiles() {
    std::set<std::string> names;
    for (const auto& entry : config().profiles) {
        names.insert(entry.first);
    }
    if (env.get("IOTSPOT_CLIENT_ID")) {
        names.insert(profile_name());
    }
    return {names.begin(), names.end()};
}

core::Profile Context::profile(const std::optional<std::string>& name) {
    return core::resolve_profile(name ? *name : profile_name(), config(), env);
}

void print(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fflush(stdout) != 0) {
        throw core::Error(core::Exit::failure, "cannot write to standard output");
    }
}

} // namespace iotspot::cli
