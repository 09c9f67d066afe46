#include "cli/args.h"

#include <cstring>

#include "core/error.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

struct OptionSpec {
    const char* name;
    bool takes_value;
    const char* commands; ///< space-separated, "*" for every command
};

// Every option and the commands that accept it.
constexpr OptionSpec option_specs[] = {
    {"profile", true, "*"},
    {"verbose", false, "*"},
    {"help", false, "*"},
    {"version", false, "*"},
    {"min-ttl", true, "token header env exec get store erase prefetch"},
    {"json", false, "token header env status"},
    {"shell", true, "env"},
    {"client-id", true, "configure"},
    {"token-url", true, "configure"},
    {"scope", true, "configure"},
    {"ca-file", true, "configure"},
    {"api-url", true, "configure"},
    {"refresh-margin", true, "configure"},
    {"client-secret-stdin", false, "configure"},
    {"all", false, "logout prefetch"},
    {"forget-secret", false, "logout"},
    {"quiet", false, "prefetch"},
    {"jobs", true, "prefetch"},
    {"port", true, "serve"},
    {"print-key", false, "serve"},
};

constexpr const char* commands[] = {"configure", "token",  "header", "env",    "exec",
                                    "status",    "logout", "get",    "store",  "erase",
                                    "prefetch",  "serve",  "help",   "version"};

const OptionSpec* find_option(const std::string& name) {
    for (const auto& spec : option_specs) {
        if (name == spec.name) {
            return &spec;
        }
    }
    return nullptr;
}

bool accepts(const OptionSpec& spec, const std::string& command) {
    if (std::strcmp(spec.commands, "*") == 0 || command.empty()) {
        return true;
    }
    for (const auto word : util::split(spec.commands, ' ')) {
        if (word == command) {
            return true;
        }
    }
    return false;
}

std::string long_name(const std::string& arg) {
    if (arg == "-v") {
        return "verbose";
    }
    if (arg == "-h") {
        return "help";
    }
    if (arg == "-V") {
        return "version";
    }
    return arg.substr(2);
}

} // namespace

bool is_command(const std::string& command) {
    for (const char* known : commands) {
        if (command == known) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> Invocation::value(const std::string& name) const {
    const auto it = options.find(name);
    if (it == options.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second.back();
}

std::vector<std::string> Invocation::values(const std::string& name) const {
    const auto it = options.find(name);
    return it == options.end() ? std::vector<std::string>{} : it->second;
}

std::optional<long long> Invocation::seconds(const std::string& name) const {
    const auto text = value(name);
    if (!text) {
        return std::nullopt;
    }
    const auto number = util::parse_int(*text);
    if (!number || *number < 0 || *number > 7 * 86400) {
        throw Error(Exit::usage, "--" + name +
                                     " takes a whole number of seconds (0 to 604800), not \"" +
                                     *text + "\"");
    }
    return *number;
}

Invocation parse_arguments(const std::vector<std::string>& args) {
    Invocation inv;
    std::vector<std::pair<std::string, std::string>> given; // option, as typed
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            inv.arguments.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        const bool is_option = (arg.size() > 2 && arg.compare(0, 2, "--") == 0) || arg == "-v" ||
                               arg == "-h" || arg == "-V";
        if (!is_option) {
            if (arg.size() > 1 && arg[0] == '-') {
                throw Error(Exit::usage, "unknown option " + arg + "; see iotspot-helper --help");
            }
            if (inv.command.empty()) {
                if (!is_command(arg)) {
                    throw UnknownCommand("unknown command \"" + arg +
                                         "\"; see iotspot-helper --help");
                }
                inv.command = arg;
                continue;
            }
            if (inv.command == "exec") {
                inv.arguments.assign(args.begin() + static_cast<long>(i), args.end());
                break;
            }
            throw Error(Exit::usage, "unexpected argument \"" + arg + "\" for " + inv.command +
                                         "; see iotspot-helper " + inv.command + " --help");
        }
        std::string name = long_name(arg);
        std::optional<std::string> inline_value;
        if (const auto equals = name.find('='); equals != std::string::npos) {
            inline_value = name.substr(equals + 1);
            name.resize(equals);
        }
        const OptionSpec* spec = find_option(name);
        if (spec == nullptr) {
            throw Error(Exit::usage, "unknown option --" + name + "; see iotspot-helper --help");
        }
        std::string value;
        if (spec->takes_value) {
            if (inline_value) {
                value = *inline_value;
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                throw Error(Exit::usage, "--" + name + " needs a value");
            }
        } else if (inline_value) {
            throw Error(Exit::usage, "--" + name + " takes no value");
        }
        inv.options[name].push_back(value);
        given.emplace_back(name, arg);
    }
    for (const auto& [name, typed] : given) {
        if (!accepts(*find_option(name), inv.command)) {
            throw Error(Exit::usage, "--" + name + " does not apply to " + inv.command +
                                         "; see iotspot-helper " + inv.command + " --help");
        }
    }
    return inv;
}

} // namespace iotspot::cli
