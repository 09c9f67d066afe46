#include "cli/completion.h"

#include <utility>
#include <vector>

#include "cli/command_table.h"

namespace iotspot::cli {

namespace {

using Substitutions = std::vector<std::pair<std::string, std::string>>;

std::string fill(std::string text, const Substitutions& substitutions) {
    for (const auto& [key, value] : substitutions) {
        for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
            text.replace(at, key.size(), value);
            at += value.size();
        }
    }
    return text;
}

// `text` inside single quotes, for bash, zsh and fish alike ("'\''" closes and reopens).
std::string quoted(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// fish reads a backslash inside single quotes as an escape, and has no '\''.
std::string fish_quoted(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

// "a|b|c" of every value-taking option ("--profile|--min-ttl|...").
std::string value_options(const char* separator) {
    std::string out;
    for (const auto& option : option_specs) {
        if (option.value != Value::none) {
            out += (out.empty() ? "" : separator) + std::string("--") + option.name;
        }
    }
    return out;
}

// The listed command names, or those with the given operands, joined by `separator`.
std::string command_names(const char* separator, std::optional<Operands> operands = {}) {
    std::string out;
    for (const auto& command : command_specs) {
        if (is_listed(command) && (!operands || command.operands == *operands)) {
            out += (out.empty() ? "" : separator) + std::string(command.name);
        }
    }
    return out;
}

// --- bash ------------------------------------------------------------------------------

constexpr const char* bash_template =
    R"~(# bash completion for iotspot-helper, generated from its own table of commands and
# options by `iotspot-helper completion bash`: do not edit. Profile names come from
# `iotspot-helper __profiles`. Works with or without the bash-completion package (with it,
# `exec -- COMMAND` completes COMMAND's arguments too).

_iotspot_helper() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' command='' i word operands=0 options=''
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # COMP_WORDBREAKS splits --profile=NAME into "--profile" "=" "NAME".
    if [[ $cur == "=" ]]; then
        cur=
    elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    COMPREPLY=()
    local start=0 # with exec: the index of the command it runs
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
        --)
            case $command in @RUNS_COMMAND@)
                start=$((i + 1))
                break ;;
            esac ;;
        @VALUE_OPTIONS@)
            [[ ${COMP_WORDS[i + 1]-} == "=" ]] && ((i++))
            ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $command ]]; then
                command=$word
            else
                case $command in @RUNS_COMMAND@)
                    start=$i
                    break ;;
                esac
                ((operands++))
            fi ;;
        esac
    done
    case $command in @RUNS_COMMAND@)
        if ((start == 0)) && [[ $cur != -* ]] && ((i == COMP_CWORD)); then
            start=$COMP_CWORD
        fi ;;
    esac
    if ((start > 0)); then
        # The command that exec runs, then its own completion where bash-completion is loaded.
        if ((start == COMP_CWORD)); then
            local -A seen=()
            while IFS= read -r word; do
                [[ -n ${seen[$word]-} ]] || COMPREPLY+=("$word")
                seen[$word]=1
            done < <(compgen -c -- "$cur")
        elif declare -F _command_offset >/dev/null; then
            _command_offset "$start"
        else
            compopt -o default 2>/dev/null
        fi
        return 0
    fi
    case $prev in
@VALUE_CASES@    esac
    if [[ $cur == -* ]]; then
        case $command in
@OPTION_CASES@        esac
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    elif [[ -z $command ]]; then
        mapfile -t COMPREPLY < <(compgen -W "@COMMANDS@" -- "$cur")
    elif ((operands == 0)); then
        case $command in
        @TAKES_SHELL@)
            mapfile -t COMPREPLY < <(compgen -W "@SHELLS@" -- "$cur") ;;
        @TAKES_FILE@)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        esac
    fi
    return 0
}

complete -F _iotspot_helper iotspot-helper
)~";

std::string bash_value_cases() {
    std::string out;
    for (const auto& option : option_specs) {
        if (option.value == Value::none) {
            continue;
        }
        out += std::string("    --") + option.name + ")\n";
        switch (option.value) {
        case Value::profile:
            out += "        mapfile -t COMPREPLY < <(compgen -W \"$(command \"${COMP_WORDS[0]}\" "
                   "__profiles 2>/dev/null)\" -- \"$cur\")\n";
            break;
        case Value::file:
            out += "        compopt -o filenames 2>/dev/null\n"
                   "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n";
            break;
        case Value::choice:
            out += std::string("        mapfile -t COMPREPLY < <(compgen -W \"") + option.choices +
                   "\" -- \"$cur\")\n";
            break;
        case Value::none:
        case Value::other:
            break;
        }
        out += "        return 0 ;;\n";
    }
    return out;
}

std::string bash_option_cases() {
    std::string out;
    for (const auto& command : command_specs) {
        if (!is_listed(command)) {
            continue;
        }
        out += std::string("        ") + command.name + ") options=\"";
        std::string names;
        for (const auto& option : option_specs) {
            if (accepts(option, command.name)) {
                names += (names.empty() ? "--" : " --") + std::string(option.name);
            }
        }
        out += names + "\" ;;\n";
    }
    std::string global;
    for (const auto& option : option_specs) {
        if (is_global(option)) {
            global += (global.empty() ? "--" : " --") + std::string(option.name);
        }
    }
    return out + "        *) options=\"" + global + "\" ;;\n";
}

std::string bash_script() {
    return fill(bash_template, {{"@RUNS_COMMAND@", command_names("|", Operands::command)},
                                {"@TAKES_SHELL@", command_names("|", Operands::shell)},
                                {"@TAKES_FILE@", command_names("|", Operands::file)},
                                {"@VALUE_OPTIONS@", value_options(" | ")},
                                {"@VALUE_CASES@", bash_value_cases()},
                                {"@OPTION_CASES@", bash_option_cases()},
                                {"@COMMANDS@", command_names(" ")},
                                {"@SHELLS@", completion_shells}});
}

// --- zsh -------------------------------------------------------------------------------

constexpr const char* zsh_template = R"~(#compdef iotspot-helper iotspot-curl=curl
# zsh completion for iotspot-helper, generated from its own table of commands and options
# by `iotspot-helper completion zsh`: do not edit. Profile names come from
# `iotspot-helper __profiles`. iotspot-curl completes like curl.

_iotspot_helper_profiles() {
    local -a names
    names=(${(f)"$(command $_iotspot_helper_program __profiles 2>/dev/null)"})
    _wanted profiles expl 'profile' compadd -a names
}

_iotspot_helper_commands() {
    local -a commands=(
@ZSH_COMMANDS@    )
    _describe -t commands 'iotspot-helper command' commands
}

_iotspot-helper() {
    if [[ $service == curl ]]; then
        _curl "$@"
        return
    fi
    emulate -L zsh
    setopt extended_glob
    local curcontext=$curcontext state state_descr line ret=1
    local _iotspot_helper_program=${(Q)words[1]}
    typeset -A opt_args
    local -a common=(
@ZSH_GLOBAL@    )
    _arguments -C $common '1: :_iotspot_helper_commands' '*:: :->command' && return 0
    [[ $state == command ]] || return 1
    curcontext=${curcontext%:*:*}:iotspot-helper-$words[1]:
    local -a specs
    case $words[1] in
@ZSH_CASES@    esac
    _arguments -S $common $specs && ret=0
    # A file operand is completed here, not in its spec: _files there hides the options.
    if [[ $state == file && $PREFIX != -* ]]; then
        _files && ret=0
    fi
    return ret
}

if [[ $funcstack[1] == _iotspot-helper ]]; then
    _iotspot-helper "$@"
else
    compdef _iotspot-helper iotspot-helper
    compdef iotspot-curl=curl
fi
)~";

std::string zsh_description(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '[' || c == ']' || c == ':' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

std::string zsh_action(const OptionSpec& option) {
    switch (option.value) {
    case Value::profile:
        return "_iotspot_helper_profiles";
    case Value::file:
        return "_files";
    case Value::choice:
        return std::string("(") + option.choices + ")";
    case Value::none:
    case Value::other:
        break;
    }
    return " ";
}

// The _arguments specs of one option, one per line.
std::string zsh_specs(const OptionSpec& option, const char* indent) {
    std::vector<std::string> names{std::string("--") + option.name};
    if (option.short_name != '\0') {
        names.push_back(std::string("-") + option.short_name);
    }
    std::string exclusions;
    if (names.size() > 1) {
        exclusions = "(" + names[1] + " " + names[0] + ")";
    }
    std::string out;
    for (const auto& name : names) {
        std::string spec = exclusions;
        if (option.value == Value::none) {
            spec += name + "[" + zsh_description(option.summary) + "]";
        } else {
            std::string message = option.metavar;
            for (auto& c : message) {
                c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
            spec += std::string(is_global(option) ? "*" : "") + name + "=[" +
                    zsh_description(option.summary) + "]:" + message + ":" + zsh_action(option);
        }
        out += indent + quoted(spec) + "\n";
    }
    return out;
}

std::string zsh_script() {
    std::string commands;
    for (const auto& command : command_specs) {
        if (is_listed(command)) {
            commands +=
                "        " + quoted(std::string(command.name) + ":" + command.summary) + "\n";
        }
    }
    std::string global;
    for (const auto& option : option_specs) {
        if (is_global(option)) {
            global += zsh_specs(option, "        ");
        }
    }
    std::string cases;
    for (const auto& command : command_specs) {
        if (!is_listed(command)) {
            continue;
        }
        cases += std::string("    (") + command.name + ") specs=(\n";
        for (const auto& option : option_specs) {
            if (!is_global(option) && accepts(option, command.name)) {
                cases += zsh_specs(option, "        ");
            }
        }
        if (command.operands == Operands::command) {
            cases += "        '(-)1:command:_command_names -e' '*::arguments:_normal'\n";
        } else if (command.operands == Operands::shell) {
            cases += std::string("        '1:shell:(") + completion_shells + ")'\n";
        } else if (command.operands == Operands::file) {
            cases += "        '1:file:->file'\n";
        }
        cases += "    ) ;;\n";
    }
    return fill(zsh_template,
                {{"@ZSH_COMMANDS@", commands}, {"@ZSH_GLOBAL@", global}, {"@ZSH_CASES@", cases}});
}

// --- fish ------------------------------------------------------------------------------

constexpr const char* fish_template =
    R"~(# fish completion for iotspot-helper, generated from its own table of commands and
# options by `iotspot-helper completion fish`: do not edit. Profile names come from
# `iotspot-helper __profiles`.

function __iotspot_helper_profiles
    set -l program (commandline -opc)[1]
    command $program __profiles 2>/dev/null
end

# The command word on the command line so far (empty when there is none yet).
function __iotspot_helper_command
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for token in $tokens
        if test $skip -eq 1
            set skip 0
        else if contains -- $token @VALUE_OPTIONS@
            set skip 1
        else if not string match -q -- '-*' $token
            echo $token
            return 0
        end
    end
    return 1
end

function __iotspot_helper_using
    contains -- (__iotspot_helper_command) $argv
end

# The index of the command that runs a command (exec) on the command line, if any.
function __iotspot_helper_runner_index
    set -l tokens (commandline -opc)
    for runner in @RUNS_COMMAND@
        contains -i -- $runner $tokens; and return 0
    end
    return 1
end

# After `exec [--]`: what the command being run would complete.
function __iotspot_helper_exec_complete
    set -l tokens (commandline -opc)
    set -l index (__iotspot_helper_runner_index)
    set -l rest $tokens[(math $index + 1)..-1]
    while set -q rest[1]; and string match -q -- '-*' $rest[1]
        set -l option $rest[1]
        set -e rest[1]
        test "$option" = --; and break
        contains -- $option @VALUE_OPTIONS@; and set -e rest[1]
    end
    set -l current (commandline -ct)
    # Before the command: exec's own options, completed by the entries below.
    not set -q rest[1]; and string match -q -- '-*' "$current"; and return
    complete -C (string join ' ' -- (string escape -- $rest) "$current")
end

function __iotspot_helper_exec_has_command
    set -l tokens (commandline -opc)
    set -l index (__iotspot_helper_runner_index); or return 1
    for token in $tokens[(math $index + 1)..-1]
        test "$token" = --; and return 0
        string match -q -- '-*' $token; or return 0
    end
    return 1
end

complete -c iotspot-helper -e
complete -c iotspot-helper -f
@FISH_LINES@
# iotspot-curl takes curl's arguments.
complete -c iotspot-curl -w curl
)~";

std::string fish_option_line(const OptionSpec& option) {
    std::string condition = "not __iotspot_helper_exec_has_command";
    if (!is_global(option)) {
        condition = std::string("__iotspot_helper_using ") + option.commands + "; and " + condition;
    }
    std::string line = "complete -c iotspot-helper -n " + fish_quoted(condition);
    if (option.short_name != '\0') {
        line += std::string(" -s ") + option.short_name;
    }
    line += std::string(" -l ") + option.name;
    switch (option.value) {
    case Value::profile:
        line += " -x -a '(__iotspot_helper_profiles)'";
        break;
    case Value::file:
        line += " -r -F";
        break;
    case Value::choice:
        line += " -x -a " + fish_quoted(option.choices);
        break;
    case Value::other:
        line += " -x";
        break;
    case Value::none:
        break;
    }
    return line + " -d " + fish_quoted(option.summary) + "\n";
}

std::string fish_script() {
    std::string lines;
    for (const auto& command : command_specs) {
        if (is_listed(command)) {
            lines += std::string("complete -c iotspot-helper -n 'not __iotspot_helper_command "
                                 ">/dev/null' -a ") +
                     command.name + " -d " + fish_quoted(command.summary) + "\n";
        }
    }
    for (const auto& option : option_specs) {
        lines += fish_option_line(option);
    }
    for (const auto& command : command_specs) {
        if (command.operands == Operands::command) {
            lines += std::string("complete -c iotspot-helper -n '__iotspot_helper_using ") +
                     command.name + "' -x -a '(__iotspot_helper_exec_complete)'\n";
        } else if (command.operands == Operands::shell) {
            lines += std::string("complete -c iotspot-helper -n '__iotspot_helper_using ") +
                     command.name + "' -x -a " + fish_quoted(completion_shells) + "\n";
        } else if (command.operands == Operands::file) {
            lines += std::string("complete -c iotspot-helper -n '__iotspot_helper_using ") +
                     command.name + "' -r -F\n";
        }
    }
    return fill(fish_template, {{"@VALUE_OPTIONS@", value_options(" ")},
                                {"@RUNS_COMMAND@", command_names(" ", Operands::command)},
                                {"@FISH_LINES@", lines}});
}

} // namespace

std::optional<std::string> completion_script(std::string_view shell) {
    if (shell == "bash") {
        return bash_script();
    }
    if (shell == "zsh") {
        return zsh_script();
    }
    if (shell == "fish") {
        return fish_script();
    }
    return std::nullopt;
}

} // namespace iotspot::cli
