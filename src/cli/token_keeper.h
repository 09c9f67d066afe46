#pragma once
// A token file kept fresh, for `sink` and `exec --keep-fresh`: the first token is written at
// start(), and refresh() writes the next one when the token enters its refresh margin, by the
// same rule, cache, lock and shared tier as every other command (core/token_service.h).
//
//   start()                 token -> FILE (throws when there is none)
//   loop: wait until due()  refresh(): a new token -> FILE, true
//                           failed -> FILE keeps the last token; one warning per episode,
//                           the next try after the backoff of core/retry.h; one line when
//                           refreshing works again

#include <optional>
#include <string>
#include <sys/types.h>

#include "cli/context.h"
#include "core/config.h"
#include "service/token_service.h"

namespace iotspot::cli {

class TokenKeeper {
public:
    /// Keeps `file` (created with `mode`) fresh with the tokens of the profile in force.
    TokenKeeper(Context& ctx, std::string file, mode_t mode);

    /// Gets a token and writes the file. Throws the token service's Error when it cannot.
    void start();

    /// Unix time when refresh() should run next.
    double due() const { return due_; }

    /// Refreshes the token if it is due; true when a new token was written to the file.
    /// Throws StoreRefused when the file cannot be written safely (a link put in its place).
    bool refresh();

    /// The token the file holds.
    const service::IssuedToken& token() const { return token_; }

private:
    void schedule();
    void failed(const core::Error& error);
    void write(service::IssuedToken issued);

    Context& ctx_;
    core::Profile profile_;
    std::string file_;
    mode_t mode_;
    service::IssuedToken token_;
    bool written_ = false;
    int failures_ = 0;
    double due_ = 0;
};

} // namespace iotspot::cli
