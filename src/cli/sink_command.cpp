// sink FILE: a token file kept fresh until SIGTERM or SIGINT (core/token_file.h,
// cli/token_keeper.h).

#include <csignal>

#include "cli/context.h"
#include "cli/metrics_file.h"
#include "cli/signal_wait.h"
#include "cli/token_keeper.h"
#include "core/error.h"
#include "store/token_file.h"

namespace iotspot::cli {

namespace {

mode_t requested_mode(const Invocation& inv) {
    const auto text = inv.value("mode");
    if (!text) {
        return store::default_token_file_mode;
    }
    const auto mode = store::parse_token_file_mode(*text);
    if (!mode) {
        throw core::Error(core::Exit::usage,
                          "--mode takes 0600, 0640, 0400 or 0440 (others may never read a "
                          "token file), not \"" +
                              *text + "\"");
    }
    return *mode;
}

} // namespace

int sink_command(Context& ctx) {
    const auto& args = ctx.invocation.arguments;
    if (args.size() != 1 || args[0].empty()) {
        throw core::Error(core::Exit::usage,
                          "sink needs one file: iotspot-helper sink [--mode 0640] FILE");
    }
    const std::string& file = args[0];
    const mode_t mode = requested_mode(ctx.invocation);
    // Blocked from the start: a SIGTERM while the first token is fetched is read afterwards.
    SignalWait signals({SIGTERM, SIGINT});
    TokenKeeper keeper(ctx, file, mode);
    keeper.start();
    write_metrics_file(ctx, {ctx.profile_name()});
    if (ctx.invocation.has("once")) {
        return 0;
    }
    ctx.log.note("keeping " + file + " fresh until SIGTERM or SIGINT");
    while (signals.wait_until(keeper.due()) == 0) {
        keeper.refresh();
        write_metrics_file(ctx, {ctx.profile_name()});
    }
    if (!ctx.invocation.has("keep")) {
        store::remove_token_file(file);
    }
    return 0;
}

} // namespace iotspot::cli
