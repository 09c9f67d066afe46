#include "cli/token_keeper.h"

#include <algorithm>
#include <random>

#include "cli/signal_wait.h"
#include "core/error.h"
#include "core/expiry.h"
#include "core/retry.h"
#include "store/token_file.h"
#include "util/time.h"

namespace iotspot::cli {

namespace {

// The timer fires this long after the due second, so the service's clock (whole seconds)
// has reached it too.
constexpr double slack_seconds = 0.05;
// The soonest next refresh, whatever a token's lifetime: no tight loop on a token that is
// born inside its margin.
constexpr double shortest_wait_seconds = 1.0;

double jitter() {
    static std::mt19937 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

} // namespace

TokenKeeper::TokenKeeper(Context& ctx, std::string file, mode_t mode)
    : ctx_(ctx), profile_(ctx.profile()), file_(std::move(file)), mode_(mode) {}

void TokenKeeper::start() {
    write(ctx_.service.get(profile_, std::nullopt));
    schedule();
}

void TokenKeeper::schedule() {
    const auto& times = token_.times;
    const auto margin = core::required_remaining(times, profile_.refresh_margin, std::nullopt);
    due_ = std::max(static_cast<double>(times.expires_at - margin) + slack_seconds,
                    unix_now() + shortest_wait_seconds);
}

void TokenKeeper::write(service::IssuedToken issued) {
    const bool changed = !written_ || issued.access_token != token_.access_token;
    token_ = std::move(issued);
    if (changed) {
        written_ = false;
        store::write_token_file(file_, token_.access_token, mode_);
        written_ = true;
    }
}

bool TokenKeeper::refresh() {
    if (unix_now() < due_) {
        return false;
    }
    const std::string before = written_ ? token_.access_token : std::string();
    try {
        write(ctx_.service.get(profile_, std::nullopt, service::WhenRefreshFails::fail));
    } catch (const core::StoreRefused&) {
        throw;
    } catch (const core::Error& error) {
        failed(error);
        return false;
    }
    if (failures_ > 0) {
        ctx_.log.info("profile \"" + profile_.name + "\": refreshing works again after " +
                      std::to_string(failures_) + " failed attempt" + (failures_ == 1 ? "" : "s") +
                      "; " + file_ + " holds a fresh token");
        failures_ = 0;
    }
    schedule();
    return token_.access_token != before;
}

void TokenKeeper::failed(const core::Error& error) {
    ++failures_;
    const double wait = core::backoff_seconds(failures_) * (0.5 + jitter() / 2);
    due_ = unix_now() + wait;
    if (failures_ > 1) {
        return; // one line per failure episode
    }
    const std::int64_t now = Context::now();
    const bool expired = token_.times.expires_at <= now;
    ctx_.log.warning("profile \"" + profile_.name + "\": " + error.what() + "; " + file_ +
                     " keeps the last token (" + (expired ? "expired " : "expires ") +
                     util::format_rfc3339(token_.times.expires_at) +
                     "), and refreshing is retried until it works");
}

} // namespace iotspot::cli
