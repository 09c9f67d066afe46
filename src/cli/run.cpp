#include "cli/run.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <vector>

#include "cli/args.h"
#include "cli/context.h"
#include "cli/help.h"
#include "core/error.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

struct Entry {
    const char* name;
    Command command;
};

constexpr Entry command_table[] = {
    {"configure", configure_command},
    {"token", token_command},
    {"header", header_command},
    {"env", env_command},
    {"exec", exec_command},
    {"sink", sink_command},
    {"status", status_command},
    {"logout", logout_command},
    {"get", get_command},
    {"store", store_command},
    {"erase", erase_command},
    {"prefetch", prefetch_command},
    {"serve", serve_command},
    {"api", api_command},
    {"completion", completion_command},
    {"__complete", complete_command},
    {"__profiles", profiles_command},
    {"__man", manual_command},
};

struct rlimit original_core_limit {};

// Keeps the client secret, the key and tokens out of core files, and other processes of the
// same user out of this one's memory: not dumpable means no core file, and /proc/PID/mem,
// /proc/PID/environ and ptrace are refused to them (as ssh-agent does).
void keep_memory_private() {
    // The soft limit only, so that exec can give it back to the user's command.
    if (::getrlimit(RLIMIT_CORE, &original_core_limit) == 0) {
        struct rlimit none = original_core_limit;
        none.rlim_cur = 0;
        ::setrlimit(RLIMIT_CORE, &none);
    }
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// git runs "git-credential-iotspot get": the same program, invoked by another name.
bool invoked_as_git_helper(const char* argv0) {
    const char* slash = std::strrchr(argv0, '/');
    return std::strcmp(slash ? slash + 1 : argv0, "git-credential-iotspot") == 0;
}

int dispatch(const Invocation& inv) {
    if (inv.has("version") || inv.command == "version") {
        print(version_text());
        return 0;
    }
    if (inv.has("help") || inv.command.empty() || inv.command == "help") {
        print(help_text(inv.command));
        return inv.command.empty() && !inv.has("help") ? static_cast<int>(core::Exit::usage) : 0;
    }
    for (const auto& entry : command_table) {
        if (inv.command == entry.name) {
            Context ctx(inv, core::Environment::from_process());
            return entry.command(ctx);
        }
    }
    throw core::Error(core::Exit::usage,
                      "\"" + inv.command +
                          "\" is not available in this build; see iotspot-helper --help");
}

// As git-credential-iotspot the arguments are git's: "[OPTIONS] get|store|erase". Helpers
// must ignore operations they do not know, so that git can add new ones (git-credential(1));
// iotspot-helper's other commands are not git operations either.
int dispatch_git_helper(const std::vector<std::string>& args) {
    Invocation inv;
    try {
        inv = parse_arguments(args);
    } catch (const UnknownCommand&) {
        return 0;
    }
    if (inv.command.empty() && (inv.has("help") || inv.has("version"))) {
        inv.command = "get";
    }
    if (inv.command.empty()) {
        throw core::Error(core::Exit::usage, "git-credential-iotspot is run by git as "
                                             "\"git-credential-iotspot get|store|erase\"; see "
                                             "docs/integrations.md");
    }
    if (inv.command != "get" && inv.command != "store" && inv.command != "erase") {
        return 0;
    }
    return dispatch(inv);
}

} // namespace

void restore_core_limit() {
    if (original_core_limit.rlim_cur != 0) {
        ::setrlimit(RLIMIT_CORE, &original_core_limit);
    }
}

int run(int argc, char** argv) {
    keep_memory_private();
    ::umask(077);
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool git_helper = invoked_as_git_helper(argc > 0 ? argv[0] : "");
    try {
        return git_helper ? dispatch_git_helper(args) : dispatch(parse_arguments(args));
    } catch (const core::Error& error) {
        // Messages quote what the user typed and what files and servers said: control
        // characters in any of it are shown escaped, never sent to the terminal.
        std::fprintf(stderr, "iotspot-helper: %s\n", util::escape_control(error.what()).c_str());
        return static_cast<int>(error.code());
    } catch (const std::exception& error) {
        std::fprintf(stderr, "iotspot-helper: internal error: %s; please report it\n",
                     util::escape_control(error.what()).c_str());
        return static_cast<int>(core::Exit::failure);
    }
}

} // namespace iotspot::cli
