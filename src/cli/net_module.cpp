#include "cli/net_module.h"

#include <dlfcn.h>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/error.h"

namespace iotspot::cli {

namespace {

#ifndef IOTSPOT_MODULE_DIR_FROM_BIN
#define IOTSPOT_MODULE_DIR_FROM_BIN "../lib/iotspot-helper"
#endif

std::string executable_dir() {
    std::vector<char> buffer(4096);
    const auto n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
    if (n <= 0) {
        return ".";
    }
    std::string path(buffer.data(), static_cast<std::size_t>(n));
    return path.substr(0, path.find_last_of('/'));
}

struct Module {
    void* handle = nullptr;
    std::string path;
};

// dlopens the first module `name` found beside the executable or in the installed layout.
// The error names every path tried and what went wrong with each.
Module load(const std::string& name, const char* what) {
    const std::string dir = executable_dir();
    const std::string candidates[] = {dir + "/" + name,
                                      dir + "/" IOTSPOT_MODULE_DIR_FROM_BIN "/" + name};
    std::string failures;
    for (const auto& path : candidates) {
        std::string reason = "not found";
        if (::access(path.c_str(), R_OK) == 0) {
            // Lazy binding: a fetch calls few of the thousands of functions the module's
            // libraries define, and binding them all at load costs CPU on every cache miss.
            // The module is linked with --no-undefined, so every symbol it needs exists.
            if (void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
                return Module{handle, path}; // loaded until the process exits
            }
            const char* error = ::dlerror();
            reason = error ? error : "dlopen failed";
        }
        failures += (failures.empty() ? "" : "; ") + path + ": " + reason;
    }
    throw core::Error(core::Exit::network, "cannot load the " + std::string(what) + " module (" +
                                               failures + "); reinstall iotspot-helper");
}

// The network module: the token client and api's client, on libcurl.
const Module& net_module() {
    static const Module loaded = load("iotspot-helper-net.so", "network");
    return loaded;
}

// The Redis module: the shared cache's client, on hiredis's reply reader and Poco NetSSL.
const Module& redis_module() {
    static const Module loaded = load("iotspot-helper-redis.so", "shared-cache");
    return loaded;
}

// The entry point `function` of `loaded`, typed as its declaration in the core header,
// after checking that the module's `abi_variable` equals `abi`. Throws Error(network).
template <typename Function>
Function* entry_point(const Module& loaded, const char* function, const char* abi_variable,
                      int abi) {
    const auto* version = static_cast<const int*>(::dlsym(loaded.handle, abi_variable));
    if (version == nullptr || *version != abi) {
        throw core::Error(core::Exit::network,
                          loaded.path + " is from another version of iotspot-helper (" +
                              abi_variable + " " +
                              (version ? std::to_string(*version) : std::string("missing")) +
                              ", expected " + std::to_string(abi) + "); reinstall iotspot-helper");
    }
    void* symbol = ::dlsym(loaded.handle, function);
    if (symbol == nullptr) {
        throw core::Error(core::Exit::network,
                          loaded.path + " lacks " + function + "; reinstall iotspot-helper");
    }
    return reinterpret_cast<Function*>(symbol);
}

// entry_point for a function declared in a core header, named once.
#define IOTSPOT_ENTRY_POINT(loaded, function, abi_variable, abi)                                   \
    entry_point<decltype(function)>(loaded, #function, #abi_variable, abi)

} // namespace

std::unique_ptr<core::TokenClient> new_net_token_client() {
    static auto* const create =
        IOTSPOT_ENTRY_POINT(net_module(), iotspot_net_create_client, iotspot_net_token_client_abi,
                            core::token_client_abi);
    std::unique_ptr<core::TokenClient> client(create(core::token_client_abi));
    if (client == nullptr) {
        throw core::Error(core::Exit::network, "the network module " + net_module().path +
                                                   " cannot create a token client; reinstall "
                                                   "iotspot-helper");
    }
    return client;
}

std::unique_ptr<core::ApiClient> new_net_api_client() {
    static auto* const create =
        IOTSPOT_ENTRY_POINT(net_module(), iotspot_net_create_api_client, iotspot_net_api_client_abi,
                            core::api_client_abi);
    std::unique_ptr<core::ApiClient> client(create(core::api_client_abi));
    if (client == nullptr) {
        throw core::Error(core::Exit::network, "the network module " + net_module().path +
                                                   " cannot create an API client; reinstall "
                                                   "iotspot-helper");
    }
    return client;
}

std::unique_ptr<core::SharedCacheClient>
new_net_shared_cache(const core::SharedCacheSettings& settings) {
    static auto* const create =
        IOTSPOT_ENTRY_POINT(redis_module(), iotspot_net_create_shared_cache,
                            iotspot_net_shared_cache_abi, core::shared_cache_abi);
    std::unique_ptr<core::SharedCacheClient> client(create(core::shared_cache_abi, &settings));
    if (client == nullptr) {
        throw core::Error(core::Exit::network,
                          "the shared-cache module " + redis_module().path +
                              " cannot create a shared-cache client; reinstall iotspot-helper");
    }
    return client;
}

core::TokenClient& net_token_client() {
    static const std::unique_ptr<core::TokenClient> client = new_net_token_client();
    return *client;
}

} // namespace iotspot::cli
