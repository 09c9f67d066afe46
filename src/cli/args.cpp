#include "cli/args.h"

#include "cli/command_table.h"
#include "core/error.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

// "--name" -> "name"; a short flag ("-v") -> its long name; anything else -> "".
std::string long_name(const std::string& arg) {
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
        return arg.substr(2);
    }
    if (arg.size() == 2 && arg[0] == '-') {
        for (const auto& spec : option_specs) {
            if (spec.short_name != '\0' && spec.short_name == arg[1]) {
                return spec.name;
            }
        }
    }
    return "";
}

// A word that is not an option, at args[i]: the command, or one of its operands. Returns true
// when it and every word after it are the command's arguments (exec).
bool take_word(Invocation& inv, const std::vector<std::string>& args, std::size_t i) {
    const std::string& arg = args[i];
    if (arg.size() > 1 && arg[0] == '-') {
        throw Error(Exit::usage, "unknown option " + arg + "; see iotspot-helper --help");
    }
    if (inv.command.empty()) {
        if (find_command(arg) == nullptr) {
            throw UnknownCommand("unknown command \"" + arg + "\"; see iotspot-helper --help");
        }
        inv.command = arg;
        return false;
    }
    const auto operands = find_command(inv.command)->operands;
    if (operands == Operands::command) {
        inv.arguments.assign(args.begin() + static_cast<long>(i), args.end());
        return true;
    }
    if ((operands == Operands::shell || operands == Operands::file ||
         operands == Operands::target) &&
        inv.arguments.empty()) {
        inv.arguments.push_back(arg);
        return false;
    }
    throw Error(Exit::usage, "unexpected argument \"" + arg + "\" for " + inv.command +
                                 "; see iotspot-helper " + inv.command + " --help");
}

// The option at args[i], `name` as typed without "--" ("name" or "name=value"): records it with its
// value, taking that from the next word when it is not inline (i then moves past it).
// Returns its name.
std::string take_option(Invocation& inv, const std::vector<std::string>& args, std::size_t& i,
                        std::string name) {
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
    if (spec->value != Value::none) {
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
    return name;
}

// Every option given must apply to the command: a typo is a usage error, not ignored.
void check_options_apply(const std::string& command, const std::vector<std::string>& given) {
    for (const auto& name : given) {
        if (!accepts(*find_option(name), command)) {
            throw Error(Exit::usage, "--" + name + " does not apply to " + command +
                                         "; see iotspot-helper " + command + " --help");
        }
    }
}

} // namespace

bool is_command(const std::string& command) {
    return find_command(command) != nullptr;
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
    std::vector<std::string> given; // the options' names, in the order given
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            inv.arguments.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        if (const std::string name = long_name(args[i]); !name.empty()) {
            given.push_back(take_option(inv, args, i, name));
        } else if (take_word(inv, args, i)) {
            break;
        }
    }
    check_options_apply(inv.command, given);
    return inv;
}

} // namespace iotspot::cli
