// exec --keep-fresh -- COMMAND: runs COMMAND as the helper's child, keeps a token file fresh
// for it, and acts as a minimal init for it (as tini and dumb-init do), so it can be a
// container's PID 1:
//   - INT TERM HUP QUIT USR1 USR2 WINCH are forwarded to the child;
//   - every child that ends is reaped (as PID 1, orphans are reparented here);
//   - the helper exits with the child's status, 128+N when it died of signal N, and removes
//     the token file and its private directory;
//   - --on-refresh signal:NAME sends NAME after each refresh; restart stops the child
//     (SIGTERM, SIGKILL after grace_seconds) and starts it again with fresh variables.
// The child gets IOTSPOT_ACCESS_TOKEN_FILE, IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT,
// never a secret variable (core/secret_files.h) or a descriptor the helper opened.

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <set>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cli/context.h"
#include "cli/run.h"
#include "cli/signal_wait.h"
#include "cli/token_keeper.h"
#include "core/error.h"
#include "store/secret_files.h"
#include "store/token_file.h"
#include "util/strings.h"

extern char** environ;

namespace iotspot::cli {

namespace {

// How long a child has to end after SIGTERM when --on-refresh restart replaces it.
constexpr double grace_seconds = 10.0;

struct OnRefresh {
    enum class Action { file_only, signal, restart } action = Action::file_only;
    int signal = 0;
};

struct SignalName {
    const char* name;
    int number;
};

constexpr SignalName signal_names[] = {{"HUP", SIGHUP},     {"INT", SIGINT},   {"QUIT", SIGQUIT},
                                       {"TERM", SIGTERM},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
                                       {"WINCH", SIGWINCH}, {"ALRM", SIGALRM}};

OnRefresh parse_on_refresh(const Invocation& inv) {
    const auto text = inv.value("on-refresh");
    if (!text) {
        return {};
    }
    if (*text == "restart") {
        return {OnRefresh::Action::restart, 0};
    }
    if (text->rfind("signal:", 0) == 0) {
        std::string name = text->substr(7);
        if (name.rfind("SIG", 0) == 0) {
            name = name.substr(3);
        }
        for (const auto& known : signal_names) {
            if (name == known.name) {
                return {OnRefresh::Action::signal, known.number};
            }
        }
    }
    throw core::Error(core::Exit::usage,
                      "--on-refresh takes restart or signal:NAME (HUP, INT, QUIT, TERM, USR1, "
                      "USR2, WINCH, ALRM), not \"" +
                          *text + "\"");
}

// The descriptors open now (those the helper's caller passed on, for the child to inherit).
std::set<int> open_descriptors() {
    std::set<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return fds;
    }
    const int own = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        const auto fd = util::parse_int(entry->d_name);
        if (fd && *fd != own && *fd >= 0 && *fd <= INT_MAX) {
            fds.insert(static_cast<int>(*fd));
        }
    }
    ::closedir(dir);
    return fds;
}

// Marks every descriptor the helper opened since `inherited` close-on-exec: libraries (SQLite,
// OpenSSL) are not asked how they open theirs.
void close_on_exec_except(const std::set<int>& inherited) {
    for (const int fd : open_descriptors()) {
        if (fd > 2 && inherited.count(fd) == 0) {
            ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
        }
    }
}

// A private directory (0700) for the token file: under $XDG_RUNTIME_DIR (a tmpfs of the
// user's own), else $TMPDIR or /tmp. Removed with the file when the helper exits.
class PrivateDir {
public:
    explicit PrivateDir(const core::Environment& env) {
        std::string base = env.get("XDG_RUNTIME_DIR").value_or("");
        struct stat info {};
        if (base.empty() || ::stat(base.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
            base = env.get("TMPDIR").value_or("/tmp");
        }
        path_ = base + "/iotspot-helper.XXXXXX";
        if (::mkdtemp(path_.data()) == nullptr) {
            throw core::Error(core::Exit::store, "cannot create a private directory in " + base +
                                                     ": " + std::strerror(errno) +
                                                     "; set XDG_RUNTIME_DIR or TMPDIR");
        }
    }
    ~PrivateDir() {
        store::remove_token_file(file());
        ::rmdir(path_.c_str());
    }
    PrivateDir(const PrivateDir&) = delete;
    PrivateDir& operator=(const PrivateDir&) = delete;
    std::string file() const { return path_ + "/token"; }

private:
    std::string path_;
};

bool is_replaced_variable(const char* entry) {
    static const char* const replaced[] = {"IOTSPOT_ACCESS_TOKEN", "IOTSPOT_ACCESS_TOKEN_FILE",
                                           "IOTSPOT_TOKEN_EXPIRES_AT"};
    const char* equals = std::strchr(entry, '=');
    const std::string name(entry,
                           equals ? static_cast<std::size_t>(equals - entry) : std::strlen(entry));
    for (const char* secret : store::secret_variables) {
        if (name == secret) {
            return true;
        }
    }
    for (const char* variable : replaced) {
        if (name == variable) {
            return true;
        }
    }
    return false;
}

// The child's environment: the helper's, without secrets, with the token's variables.
std::vector<std::string> child_environment(const service::IssuedToken& token,
                                           const std::string& file) {
    std::vector<std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        if (!is_replaced_variable(*entry)) {
            env.emplace_back(*entry);
        }
    }
    env.push_back("IOTSPOT_ACCESS_TOKEN_FILE=" + file);
    env.push_back("IOTSPOT_ACCESS_TOKEN=" + token.access_token);
    env.push_back("IOTSPOT_TOKEN_EXPIRES_AT=" + std::to_string(token.times.expires_at));
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& text : strings) {
        out.push_back(text.data());
    }
    out.push_back(nullptr);
    return out;
}

} // namespace

namespace {

int exit_status(int status) {
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// In the child after fork: only async-signal-safe calls, all text prepared before.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, const sigset_t& mask,
                             const std::string& not_found, const std::string& not_runnable) {
    ::sigprocmask(SIG_SETMASK, &mask, nullptr);
    restore_core_limit();
    ::execvpe(argv[0], argv, envp);
    const bool missing = errno == ENOENT || errno == ENOTDIR;
    const std::string& message = missing ? not_found : not_runnable;
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(missing ? 127 : 126);
}

class Supervisor {
public:
    Supervisor(Context& ctx, TokenKeeper& keeper, SignalWait& signals, OnRefresh on_refresh,
               std::string file, std::set<int> inherited)
        : ctx_(ctx), keeper_(keeper), signals_(signals), on_refresh_(on_refresh),
          file_(std::move(file)), inherited_(std::move(inherited)) {}

    /// Runs the command until it ends; its exit status.
    int run() {
        spawn();
        while (!ended_) {
            const int signal = signals_.wait_until(keeper_.due());
            if (signal == SIGCHLD) {
                reap();
            } else if (signal != 0) {
                send(signal);
            } else if (refresh()) {
                after_refresh();
            }
        }
        return *ended_;
    }

private:
    // The keeper's refresh; when the file cannot be written safely any more, the command is
    // stopped before the error ends the helper, rather than left running without it.
    bool refresh() {
        try {
            return keeper_.refresh();
        } catch (const core::Error&) {
            stop_for_restart();
            throw;
        }
    }

    void spawn() {
        auto env = child_environment(keeper_.token(), file_);
        auto args = ctx_.invocation.arguments;
        const auto envp = pointers(env);
        const auto argv = pointers(args);
        const std::string name = "iotspot-helper: cannot run " + args[0];
        const std::string not_found = name + ": not found; check the command name and PATH\n";
        const std::string not_runnable = name + ": not an executable file, or not allowed\n";
        close_on_exec_except(inherited_);
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            throw core::Error(core::Exit::failure,
                              "cannot start " + args[0] + ": " + std::strerror(errno));
        }
        if (pid == 0) {
            exec_child(argv.data(), envp.data(), signals_.original_mask(), not_found, not_runnable);
        }
        child_ = pid;
        ended_.reset();
    }

    void send(int signal) const {
        if (child_ > 0) { // never kill(-1, ...)
            ::kill(child_, signal);
        }
    }

    // Reaps every child that ended (orphans too, as PID 1); notes when the command did.
    void reap() {
        int status = 0;
        for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
            if (pid == child_) {
                child_ = -1;
                ended_ = exit_status(status);
            }
        }
    }

    void after_refresh() {
        if (on_refresh_.action == OnRefresh::Action::signal) {
            ctx_.log.note("sending signal " + std::to_string(on_refresh_.signal) +
                          " to the command after a refresh");
            send(on_refresh_.signal);
        } else if (on_refresh_.action == OnRefresh::Action::restart && stop_for_restart()) {
            ctx_.log.note("restarting the command with the fresh token");
            spawn();
        }
    }

    // SIGTERM, then SIGKILL after grace_seconds; false when a signal asked the helper itself
    // to stop meanwhile (then the command's status is the helper's).
    bool stop_for_restart() {
        send(SIGTERM);
        double deadline = unix_now() + grace_seconds;
        bool stop = false;
        while (child_ > 0) {
            const int signal = signals_.wait_until(deadline);
            if (signal == SIGCHLD) {
                reap();
            } else if (signal != 0) {
                send(signal);
                stop = stop || signal != SIGWINCH;
            } else if (unix_now() >= deadline) {
                send(SIGKILL);
                deadline = unix_now() + grace_seconds;
            }
        }
        return !stop;
    }

    Context& ctx_;
    TokenKeeper& keeper_;
    SignalWait& signals_;
    OnRefresh on_refresh_;
    std::string file_;
    std::set<int> inherited_;
    pid_t child_ = -1;
    std::optional<int> ended_;
};

} // namespace

int exec_keep_fresh_command(Context& ctx) {
    const OnRefresh on_refresh = parse_on_refresh(ctx.invocation);
    std::set<int> inherited = open_descriptors();
    SignalWait signals({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD});
    PrivateDir dir(ctx.env);
    TokenKeeper keeper(ctx, dir.file(), store::default_token_file_mode);
    keeper.start();
    Supervisor supervisor(ctx, keeper, signals, on_refresh, dir.file(), std::move(inherited));
    return supervisor.run();
}

} // namespace iotspot::cli
