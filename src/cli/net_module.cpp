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

constexpr const char* module_name = "iotspot-helper-net.so";

std::string executable_dir() {
    std::vector<char> buffer(4096);
    const auto n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
    if (n <= 0) {
        return ".";
    }
    std::string path(buffer.data(), static_cast<std::size_t>(n));
    return path.substr(0, path.find_last_of('/'));
}

using Factory = core::TokenClient* (*)(int);

// dlopens the module, checking that it is of this version; returns its handle.
void* load() {
    const std::string dir = executable_dir();
    const std::string candidates[] = {dir + "/" + module_name,
                                      dir + "/" IOTSPOT_MODULE_DIR_FROM_BIN "/" + module_name};
    std::string reason = "not found";
    for (const auto& path : candidates) {
        if (::access(path.c_str(), R_OK) != 0) {
            continue;
        }
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            reason = ::dlerror();
            continue;
        }
        auto factory = reinterpret_cast<Factory>(::dlsym(handle, "iotspot_net_create_client"));
        std::unique_ptr<core::TokenClient> probe(factory ? factory(core::token_client_abi)
                                                         : nullptr);
        if (probe == nullptr) {
            reason = path + " is from another version of iotspot-helper";
            continue;
        }
        // The module stays loaded until the process exits.
        return handle;
    }
    throw core::Error(core::Exit::network, "cannot load the network module " + candidates[1] +
                                               " (" + reason + "); reinstall iotspot-helper");
}

// The address of `name` in the module, loaded once per process.
void* module_symbol(const char* name) {
    static void* const handle = load();
    void* symbol = ::dlsym(handle, name);
    if (symbol == nullptr) {
        throw core::Error(core::Exit::network, std::string("the network module lacks ") + name +
                                                   "; reinstall iotspot-helper");
    }
    return symbol;
}

} // namespace

std::unique_ptr<core::TokenClient> new_net_token_client() {
    static const auto factory =
        reinterpret_cast<Factory>(module_symbol("iotspot_net_create_client"));
    std::unique_ptr<core::TokenClient> client(factory(core::token_client_abi));
    if (client == nullptr) {
        throw core::Error(
            core::Exit::network,
            "the network module cannot create a token client; reinstall iotspot-helper");
    }
    return client;
}

std::unique_ptr<core::SharedCacheClient>
new_net_shared_cache(const core::SharedCacheSettings& settings) {
    using SharedFactory = core::SharedCacheClient* (*)(int, const core::SharedCacheSettings*);
    static const auto factory =
        reinterpret_cast<SharedFactory>(module_symbol("iotspot_net_create_shared_cache"));
    std::unique_ptr<core::SharedCacheClient> client(factory(core::shared_cache_abi, &settings));
    if (client == nullptr) {
        throw core::Error(core::Exit::network,
                          "the network module cannot create a shared-cache client (another "
                          "version?); reinstall iotspot-helper");
    }
    return client;
}

core::TokenClient& net_token_client() {
    static const std::unique_ptr<core::TokenClient> client = new_net_token_client();
    return *client;
}

int net_serve(int port, core::LocalRequestHandler& handler, const core::Log& log) {
    using Serve = int (*)(int, int, core::LocalRequestHandler*, const core::Log*, std::string*);
    const auto serve = reinterpret_cast<Serve>(module_symbol("iotspot_net_serve"));
    std::string error;
    const int status = serve(core::token_client_abi, port, &handler, &log, &error);
    if (status != 0) {
        throw core::Error(static_cast<core::Exit>(status), error);
    }
    return 0;
}

} // namespace iotspot::cli
