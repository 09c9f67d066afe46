#pragma once
// Client secrets, sealed, one per profile, in $XDG_DATA_HOME/iotspot-helper/secrets.db.
// A secret is bound to its profile and client id: configuring another client id for the
// profile makes the old secret unusable rather than silently sent to the wrong client.

#include <memory>
#include <optional>
#include <string>

#include "core/crypto.h"
#include "store/sqlite.h"

namespace iotspot::store {

/// A damaged file is never rebuilt (the secrets in it are the user's): every operation
/// then throws Error(store) saying to move it away and run configure again.
class SecretStore {
public:
    explicit SecretStore(const std::string& path);

    void save(const std::string& profile, const std::string& client_id, const core::Key& key,
              const std::string& secret);

    enum class Status { found, missing, unreadable };
    struct Lookup {
        Status status = Status::missing;
        std::string secret;
    };
    /// The secret of `profile` for `client_id`. `unreadable` means a row exists but does not
    /// open with this key and client id (the key file was replaced, or the id changed).
    Lookup load(const std::string& profile, const std::string& client_id, const core::Key& key);

    /// Drops the secret of `profile`; true when there was one.
    bool erase(const std::string& profile);

private:
    void save_row(const std::string& profile, const std::string& client_id, const core::Key& key,
                  const std::string& secret);
    Lookup load_row(const std::string& profile, const std::string& client_id, const core::Key& key);
    bool erase_row(const std::string& profile);

    std::unique_ptr<Database> db_;
};

/// The secret-store slot of profile `profile`'s next client secret, during a rotation (not a
/// valid profile name, so it never collides with one).
std::string next_secret_slot(const std::string& profile);

} // namespace iotspot::store
