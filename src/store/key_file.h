#pragma once
// The per-user key file that seals the token cache and the secret store: 32 random bytes,
// 0600, in a 0700 directory, created once.

#include <string>

#include "core/crypto.h"

namespace iotspot::store {

/// Reads the key file at `path`, creating it with 32 random bytes on first use.
/// Throws core::Error(store) when it is unreadable, has the wrong size, or others can read it.
core::Key load_or_create_key(const std::string& path);

} // namespace iotspot::store
