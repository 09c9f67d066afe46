#include "cli/command_table.h"

#include "util/strings.h"

namespace iotspot::cli {

const OptionSpec* find_option(std::string_view name) {
    for (const auto& spec : option_specs) {
        if (name == spec.name) {
            return &spec;
        }
    }
    return nullptr;
}

const CommandSpec* find_command(std::string_view name) {
    for (const auto& spec : command_specs) {
        if (name == spec.name) {
            return &spec;
        }
    }
    return nullptr;
}

bool is_global(const OptionSpec& option) {
    return std::string_view(option.commands) == "*";
}

bool accepts(const OptionSpec& option, std::string_view command) {
    if (is_global(option) || command.empty()) {
        return true;
    }
    for (const auto word : util::split(option.commands, ' ')) {
        if (word == command) {
            return true;
        }
    }
    return false;
}

bool is_listed(const CommandSpec& command) {
    return *command.summary != '\0';
}

} // namespace iotspot::cli
