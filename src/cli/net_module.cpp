#include "cli/net_module.h"

#include "core/error.h"

#include <dlfcn.h>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

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

core::TokenClient* load() {
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
        using Factory = core::TokenClient* (*)(int);
        auto factory = reinterpret_cast<Factory>(::dlsym(handle, "iotspot_net_create_client"));
        core::TokenClient* client = factory ? factory(core::token_client_abi) : nullptr;
        if (client == nullptr) {
            reason = path + " is from another version of iotspot-helper";
            continue;
        }
        // The module stays loaded until the process exits.
        return client;
    }
    throw core::Error(core::Exit::network, "cannot load the network module " + candidates[1] +
                                               " (" + reason + "); reinstall iotspot-helper");
}

} // namespace

core::TokenClient& net_token_client() {
    static std::unique_ptr<core::TokenClient> client(load());
    return *client;
}

} // namespace iotspot::cli
