#include "cli/completion.h"

#include <cstddef>
#include <exception>

#include "cli/command_table.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

constexpr const char* bash_script =
    R"~(# bash completion for iotspot-helper. On each TAB it asks the helper for the candidates:
# `iotspot-helper __complete -- WORDS...` (src/cli/completion.h). Works with or
# without bash-completion (with it, `exec -- COMMAND` completes COMMAND's arguments too).

_iotspot_helper() {
    local line=${COMP_LINE:0:COMP_POINT} cur=${COMP_WORDS[COMP_CWORD]} i reply=() directive=
    local words=() at=() # the words as typed, and where each begins in COMP_WORDS
    # Bash splits --profile=NAME at "=": join again the words no blank separates.
    line=${line#*"${COMP_WORDS[0]}"}
    for ((i = 1; i <= COMP_CWORD; i++)); do
        if ((i > 1)) && [[ $line != [[:blank:]]* ]]; then
            words[-1]+=${COMP_WORDS[i]}
        else
            words+=("${COMP_WORDS[i]}") at+=("$i")
        fi
        line=${line#"${line%%[![:blank:]]*}"}
        line=${line#"${COMP_WORDS[i]}"}
    done
    [[ $cur == [$COMP_WORDBREAKS] ]] && cur=
    mapfile -t reply < <(command "${COMP_WORDS[0]}" __complete -- "${words[@]}" 2>/dev/null)
    ((${#reply[@]} > 0)) && directive=${reply[-1]} && unset 'reply[-1]'
    case $directive in
    :file)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    :command\ *)
        i=${at[${directive#:command }]}
        if ((i == COMP_CWORD)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        elif declare -F _command_offset >/dev/null; then
            _command_offset "$i"
        else
            compopt -o default 2>/dev/null
        fi ;;
    *)
        # Without descriptions, and without what readline keeps (up to the last "=").
        reply=("${reply[@]%%$'\t'*}")
        COMPREPLY=("${reply[@]#"${words[-1]%"$cur"}"}")
        [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null ;;
    esac
    return 0
}

complete -F _iotspot_helper iotspot-helper
)~";

constexpr const char* zsh_script = R"~(#compdef iotspot-helper iotspot-curl=curl
# zsh completion for iotspot-helper. On each TAB it asks the helper for the candidates:
# `iotspot-helper __complete -- WORDS...` (src/cli/completion.h).
# iotspot-curl completes like curl.

_iotspot-helper() {
    if [[ $service == curl ]]; then
        _curl "$@"
        return
    fi
    local -a reply plain glued
    local entry directive offset
    reply=("${(@f)$(command ${(Q)words[1]} __complete -- "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")
    directive=$reply[-1]
    for entry in "${(@)reply[1,-2]}"; do
        # "--name=" takes its value in the same word: no space after it.
        if [[ ${entry%%$'\t'*} == *= ]]; then
            glued+=("${entry/$'\t'/:}")
        else
            plain+=("${entry/$'\t'/:}")
        fi
    done
    case $directive in
    (:file)
        [[ $PREFIX == --* ]] && compset -P 1 '*='
        _files ;;
    (:command\ *)
        offset=$((${directive#:command } + 1))
        shift $offset words
        ((CURRENT -= offset))
        _normal ;;
    (*)
        _describe -t candidates candidate plain -- glued -S '' ;;
    esac
}

if [[ $funcstack[1] == _iotspot-helper ]]; then
    _iotspot-helper "$@"
else
    compdef _iotspot-helper iotspot-helper
    compdef iotspot-curl=curl
fi
)~";

constexpr const char* fish_script =
    R"~(# fish completion for iotspot-helper. On each TAB it asks the helper for the candidates:
# `iotspot-helper __complete -- WORDS...` (src/cli/completion.h).

function __iotspot_helper_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l reply (command $words[1] __complete -- $words[2..-1] $current 2>/dev/null)
    set -l directive $reply[-1]
    set -e reply[-1]
    switch "$directive"
        case :file
            # A "--name=" before the file name stays in the word.
            set -l stem (string replace -r -- '^(--[^=]*=)?.*$' '$1' $current)
            set -l path (string replace -r -- '^--[^=]*=' '' $current)
            printf '%s\n' $stem(__fish_complete_path $path)
        case ':command *'
            set -l first (math (string replace -- ':command ' '' $directive) + 2)
            complete -C (string join ' ' -- (string escape -- $words[$first..-1]) $current)
        case '*'
            printf '%s\n' $reply
    end
end

complete -c iotspot-helper -e
complete -c iotspot-helper -f -a '(__iotspot_helper_complete)'
# iotspot-curl takes curl's arguments.
complete -c iotspot-curl -w curl
)~";

// Where the words before the one being completed leave the command line.
struct Scan {
    const CommandSpec* command = nullptr; // nullptr before the command
    const OptionSpec* pending = nullptr;  // an option whose value is the next word
    bool options_ended = false;           // after "--"
    bool lost = false;                    // an unknown command, or "--" before any
    std::size_t operands = 0;
    std::optional<std::size_t> nested; // where a command line of its own begins (exec)
};

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

bool is_option_word(std::string_view word) {
    return word.size() > 1 && word[0] == '-';
}

// The option "--name", "--name=VALUE" or "-X" names, or nullptr.
const OptionSpec* option_named(std::string_view word) {
    if (starts_with(word, "--")) {
        const auto name = word.substr(2);
        return find_option(name.substr(0, name.find('=')));
    }
    for (const auto& option : option_specs) {
        if (word.size() == 2 && option.short_name != '\0' && word[1] == option.short_name) {
            return &option;
        }
    }
    return nullptr;
}

void scan_operand(Scan& scan, const std::string& word, std::size_t index) {
    if (scan.command == nullptr) {
        scan.command = find_command(word);
        scan.lost = scan.command == nullptr || !is_listed(*scan.command);
    } else if (scan.command->operands == Operands::command) {
        scan.nested = index;
    } else {
        ++scan.operands;
    }
}

void scan_word(Scan& scan, const std::string& word, std::size_t index) {
    if (scan.pending != nullptr) {
        scan.pending = nullptr;
    } else if (!scan.options_ended && word == "--") {
        scan.options_ended = true;
        scan.lost = scan.command == nullptr;
        if (!scan.lost && scan.command->operands == Operands::command) {
            scan.nested = index + 1;
        }
    } else if (!scan.options_ended && is_option_word(word)) {
        const OptionSpec* option = option_named(word);
        if (option != nullptr && option->value != Value::none &&
            word.find('=') == std::string::npos) {
            scan.pending = option;
        }
    } else {
        scan_operand(scan, word, index);
    }
}

Scan scan_words(const std::vector<std::string>& words) {
    Scan scan;
    for (std::size_t i = 0; i + 1 < words.size() && !scan.lost && !scan.nested; ++i) {
        scan_word(scan, words[i], i);
    }
    return scan;
}

Completion nothing() {
    return {{}, ":none"};
}

// `stem` + each of `values` that begins with `prefix`.
template <typename Values>
Completion matching(const Values& values, std::string_view stem, std::string_view prefix) {
    Completion out = nothing();
    for (const auto& value : values) {
        if (starts_with(value, prefix)) {
            out.candidates.push_back(std::string(stem) + std::string(value));
        }
    }
    return out;
}

// The configured profile names that are valid names (so nothing else reaches the terminal).
std::vector<std::string> profile_names(const ProfileSource& profiles) {
    std::vector<std::string> names;
    try {
        for (auto& name : profiles()) {
            if (util::is_valid_profile_name(name)) {
                names.push_back(std::move(name));
            }
        }
    } catch (const std::exception&) {
        return {};
    }
    return names;
}

Completion complete_value(const OptionSpec& option, std::string_view stem, std::string_view prefix,
                          const ProfileSource& profiles) {
    switch (option.value) {
    case Value::file:
        return {{}, ":file"};
    case Value::choice:
        return matching(util::split(option.choices, ' '), stem, prefix);
    case Value::profile:
        return matching(profile_names(profiles), stem, prefix);
    case Value::none:
    case Value::other:
        break;
    }
    return nothing();
}

// "--name" or "--name=": the options the command accepts (the global ones before a command).
Completion complete_option(const Scan& scan, const std::string& current,
                           const ProfileSource& profiles) {
    if (const auto equals = current.find('='); equals != std::string::npos) {
        const OptionSpec* option = option_named(current);
        if (option == nullptr || !starts_with(current, "--")) {
            return nothing();
        }
        const std::string_view word = current;
        return complete_value(*option, word.substr(0, equals + 1), word.substr(equals + 1),
                              profiles);
    }
    Completion out = nothing();
    for (const auto& option : option_specs) {
        const bool offered =
            scan.command == nullptr ? is_global(option) : accepts(option, scan.command->name);
        const std::string word =
            std::string("--") + option.name + (option.value == Value::none ? "" : "=");
        if (offered && starts_with(word, current)) {
            out.candidates.push_back(word + "\t" + option.summary);
        }
    }
    return out;
}

Completion complete_command_name(std::string_view current) {
    Completion out = nothing();
    for (const auto& command : command_specs) {
        if (is_listed(command) && starts_with(command.name, current)) {
            out.candidates.push_back(std::string(command.name) + "\t" + command.summary);
        }
    }
    return out;
}

Completion complete_operand(const Scan& scan, std::string_view current, std::size_t index) {
    if (scan.command->operands == Operands::command) {
        return {{}, ":command " + std::to_string(index)};
    }
    if (scan.operands > 0) {
        return nothing();
    }
    if (scan.command->operands == Operands::shell) {
        return matching(util::split(completion_shells, ' '), "", current);
    }
    if (scan.command->operands == Operands::file) {
        return {{}, ":file"};
    }
    return nothing();
}

} // namespace

Completion complete_words(const std::vector<std::string>& words, const ProfileSource& profiles) {
    const std::string current = words.empty() ? std::string() : words.back();
    const std::size_t index = words.empty() ? 0 : words.size() - 1;
    const Scan scan = scan_words(words);
    if (scan.lost) {
        return nothing();
    }
    if (scan.nested) {
        return {{}, ":command " + std::to_string(*scan.nested)};
    }
    if (scan.pending != nullptr) {
        return complete_value(*scan.pending, "", current, profiles);
    }
    if (!scan.options_ended && is_option_word(current)) {
        return complete_option(scan, current, profiles);
    }
    if (scan.command == nullptr) {
        return complete_command_name(current);
    }
    return complete_operand(scan, current, index);
}

std::string completion_lines(const Completion& completion) {
    std::string out;
    for (const auto& candidate : completion.candidates) {
        out += candidate + "\n";
    }
    return out + completion.directive + "\n";
}

std::optional<std::string> completion_script(std::string_view shell) {
    if (shell == "bash") {
        return bash_script;
    }
    if (shell == "zsh") {
        return zsh_script;
    }
    if (shell == "fish") {
        return fish_script;
    }
    return std::nullopt;
}

} // namespace iotspot::cli
