#pragma once
// What crosses the dlopen boundary between the executable and its modules (the network
// module iotspot-helper-net.so, the shared-cache module iotspot-helper-redis.so), and how.
//
// Each interface the module offers is one typed entry point and one ABI version, both
// declared once, in the core header of that interface (token_client.h, shared_cache.h):
//
//   inline constexpr int token_client_abi = 2;           // bumped when the interface changes
//   IOTSPOT_MODULE_ENTRY const int iotspot_net_token_client_abi;
//   IOTSPOT_MODULE_ENTRY iotspot::core::TokenClient* iotspot_net_create_client(int abi);
//
// The module defines both names with exactly these declarations in scope, so a changed
// signature does not compile; the executable looks them up with dlsym and casts to
// decltype(the declaration), never to a signature written out again (cli/net_module.cpp).
// The ABI version is a variable, so checking it runs no code of the module. Nothing is thrown
// across the boundary: entry points catch everything and report through their results.

#define IOTSPOT_MODULE_ENTRY extern "C" __attribute__((visibility("default")))
