#pragma once
// The counters a host keeps (core/counters.h) and which secret of a rotation the token server
// accepted last: $XDG_CACHE_HOME/iotspot-helper/counters.db, beside the token cache.
//
// A file of its own rather than tables in tokens.db: every cache hit opens tokens.db, and
// SQLite parses the whole schema on the first statement (callgrind: two more tables there
// cost a hit 8% more instructions). Only misses and status open this file. It holds counts
// only, so a damaged file is simply started afresh.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "store/sqlite.h"

namespace iotspot::store {

class CounterStore {
public:
    /// Opens the store at `path`, creating it; a damaged one is removed and created again.
    /// Throws Error(store) when it cannot be opened.
    explicit CounterStore(const std::string& path);

    /// Adds one to the count `counter` of `profile`.
    void add(const std::string& profile, const std::string& counter);
    /// Every count of `profile`, by counter name; empty when none.
    std::map<std::string, std::int64_t> counts(const std::string& profile);

    /// Which of a profile's two secrets the token server accepted last, and which it refused.
    struct SecretUse {
        std::string accepted; ///< "next" or "current"; empty when it accepted neither
        std::string refused;  ///< "next", "current", "next current" or empty
        std::int64_t at = 0;  ///< Unix seconds
    };
    void note_secret_use(const std::string& profile, const SecretUse& use);
    std::optional<SecretUse> secret_use(const std::string& profile);
    /// Forgets the secret use of `profile` (its secrets were replaced).
    void forget_secret_use(const std::string& profile);

private:
    std::unique_ptr<Database> db_;
};

} // namespace iotspot::store
