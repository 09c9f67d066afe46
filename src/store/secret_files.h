#pragma once
// Secrets handed over as files, the way containers and services deliver them: a variable
// naming a file (IOTSPOT_CLIENT_SECRET_FILE, as Docker's images take POSTGRES_PASSWORD_FILE),
// a Kubernetes secret volume, or systemd's credentials directory ($CREDENTIALS_DIRECTORY,
// from LoadCredential= or LoadCredentialEncrypted=).
//
// Precedence, first found wins:
//   1. the variable itself            IOTSPOT_CLIENT_SECRET
//   2. the file it names              IOTSPOT_CLIENT_SECRET_FILE
//   3. systemd's credential           $CREDENTIALS_DIRECTORY/iotspot-client-secret
//   4. the secret stored by `configure` (not here: core/secret_store.h)
//
// A file holds the value; one trailing newline is stripped. A file that is missing (when a
// variable names it), not a regular file (a FIFO, a device, a directory), empty, larger than
// max_secret_file_size or unreadable is Error(not_configured) naming it. It is opened with
// O_NONBLOCK and checked with fstat before a byte is read, so nothing hangs on a FIFO.
// Links are followed: Kubernetes' secret volumes are links into a hidden directory.

#include <cstddef>
#include <optional>
#include <string>

#include "core/environment.h"

namespace iotspot::store {

/// Where one secret may come from besides the secret store.
struct SecretSource {
    const char* variable;      ///< "IOTSPOT_CLIENT_SECRET"
    const char* file_variable; ///< "IOTSPOT_CLIENT_SECRET_FILE"
    const char* credential;    ///< the file's name in $CREDENTIALS_DIRECTORY
    const char* what;          ///< "client secret", for messages
};

inline constexpr SecretSource client_secret_source{"IOTSPOT_CLIENT_SECRET",
                                                   "IOTSPOT_CLIENT_SECRET_FILE",
                                                   "iotspot-client-secret", "client secret"};
inline constexpr SecretSource redis_password_source{"IOTSPOT_REDIS_PASSWORD",
                                                    "IOTSPOT_REDIS_PASSWORD_FILE",
                                                    "iotspot-redis-password", "Redis password"};

/// The variables that carry a secret or name its file: never passed on to a command the
/// helper runs (exec).
inline constexpr const char* secret_variables[] = {
    "IOTSPOT_CLIENT_SECRET", "IOTSPOT_CLIENT_SECRET_FILE", "IOTSPOT_REDIS_PASSWORD",
    "IOTSPOT_REDIS_PASSWORD_FILE"};

/// The largest secret file read: far more than any client secret or password.
inline constexpr std::size_t max_secret_file_size = 16 * 1024;

/// Where a secret outside the store comes from.
enum class SecretOrigin { none, variable, file, credential };

/// Which of 1-3 above provides `source` in `env` (without reading a file).
SecretOrigin secret_origin(const core::Environment& env, const SecretSource& source);

/// The secret from 1-3 above, or nullopt when none of them provides it (then the stored
/// secret applies). Throws Error(not_configured) for a file that cannot be used.
std::optional<std::string> secret_from_environment(const core::Environment& env,
                                                   const SecretSource& source);

/// The content of secret file `path`, without one trailing newline; `named_by` says where
/// the name came from, for messages ("IOTSPOT_CLIENT_SECRET_FILE"). Throws as above.
std::string read_secret_file(const std::string& path, const std::string& named_by);

} // namespace iotspot::store
