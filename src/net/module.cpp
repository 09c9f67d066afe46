// The network module's entry point, looked up with dlsym by the executable.

#include "net/https_token_client.h"

extern "C" __attribute__((visibility("default"))) iotspot::core::TokenClient*
iotspot_net_create_client(int abi) {
    if (abi != iotspot::core::token_client_abi) {
        return nullptr;
    }
    try {
        return new iotspot::net::HttpsTokenClient();
    } catch (...) {
        return nullptr;
    }
}
