#include "cli/manual.h"

#include <string_view>

#include "cli/command_table.h"
#include "cli/help.h"
#include "core/error.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

constexpr const char* description_tail = R"~(Options may stand before or after the command;
--name=value and --name value both work; -- ends the options.
An option that does not apply to the command is a usage error (exit 2), not ignored.

Configure a profile once with the client id and secret that your organization admin
issues in the iotspot Control Center.
The secret is stored encrypted (XChaCha20-Poly1305, per-user key) and never appears on
a command line, in a log or in an error message.
Tokens are cached encrypted in a per-user SQLite file and reused until shortly before
they expire; concurrent callers share one token request.
TLS certificates and host names are always verified.
)~";

constexpr const char* examples =
    R"~(Configure the default profile; the secret is prompted for without echo:
  iotspot-helper configure --client-id 4d3c2b1a0example

Configure from a secret store, without a terminal:
  printf '%s\n' "$SECRET" | iotspot-helper configure --client-id ID --client-secret-stdin

Call the API with curl, the token never on a command line:
  iotspot-helper header | curl -H @- https://api.iotspot.co/...

Set the token in the shell, or for one command:
  eval "$(iotspot-helper env)"
  iotspot-helper --profile staging exec -- ./my-script.sh

Let git use the helper for iotspot.co and the hosts under it:
  git config --global credential.https://iotspot.co.helper iotspot
  git config --global credential.https://*.iotspot.co.helper iotspot

In CI and containers, with the secret in a mounted file and no config file:
  IOTSPOT_CLIENT_ID=... IOTSPOT_CLIENT_SECRET_FILE=/run/secrets/iotspot iotspot-helper token

Keep a token fresh for a program that runs longer than the token lives:
  iotspot-helper sink "$XDG_RUNTIME_DIR/iotspot-helper/default.token"
  iotspot-helper exec --keep-fresh -- ./worker   # reads $IOTSPOT_ACCESS_TOKEN_FILE
)~";

constexpr const char* see_also = R"~(\fBgit\-credential\-iotspot\fR(1), \fBiotspot\-curl\fR(1),
\fBgit\-credential\fR(1), \fBcurl\fR(1).
.PP
The documentation in /usr/share/doc/iotspot\-helper/ explains the
integrations (git, shells, curl, Postman, Bruno, Insomnia, HTTPie) and
unattended refresh with cron and the systemd user units
iotspot\-helper\-prefetch.timer, iotspot\-helper\-serve.service and
iotspot\-helper\-sink@.service.
)~";

// Escapes text for roff: backslashes, hyphens, and a leading dot or quote.
std::string escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) {
        out.insert(0, "\\&");
    }
    return out;
}

// One line of filled text: a new output line for each sentence (as roff wants it) and
// before 79 bytes.
std::string sentences(std::string_view line) {
    std::string out;
    std::size_t column = 0;
    bool sentence_end = false;
    const std::string text = escaped(line);
    for (const auto word : util::split(text, ' ')) {
        const bool capital = !word.empty() && word[0] >= 'A' && word[0] <= 'Z';
        if (column > 0 && ((sentence_end && capital) || column + 1 + word.size() > 78)) {
            out += "\n";
            column = 0;
        } else if (column > 0) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        const char last = word.empty() ? ' ' : word.back();
        sentence_end = last == '.' || last == '?' || last == '!';
    }
    return out + "\n";
}

// Plain text (as in --help) to roff: blank lines start paragraphs, indented lines are shown
// as they are.
std::string roff_text(std::string_view text) {
    std::string out;
    bool literal = false;
    for (const auto line : util::split(text, '\n')) {
        const bool indented = line.size() > 2 && line.substr(0, 2) == "  ";
        if (indented && !literal) {
            out += ".RS 4\n.nf\n";
            literal = true;
        } else if (!indented && literal) {
            out += ".fi\n.RE\n";
            literal = false;
        }
        if (line.empty()) {
            out += literal ? "" : ".PP\n";
        } else if (literal) {
            out += escaped(line.substr(2)) + "\n";
        } else {
            out += sentences(line);
        }
    }
    if (literal) {
        out += ".fi\n.RE\n";
    }
    while (out.size() >= 4 && out.compare(out.size() - 4, 4, ".PP\n") == 0) {
        out.resize(out.size() - 4);
    }
    return out;
}

std::string option_synopsis(const OptionSpec& option) {
    std::string out = std::string("\\fB\\-\\-") + escaped(option.name) + "\\fR";
    if (option.value != Value::none) {
        out += std::string(" \\fI") + option.metavar + "\\fR";
    }
    return out;
}

std::string option_items(bool global, std::string_view command) {
    std::string out;
    for (const auto& option : option_specs) {
        if (is_global(option) != global || !accepts(option, command)) {
            continue;
        }
        out += ".TP\n" + option_synopsis(option);
        if (option.short_name != '\0') {
            out += std::string(", \\fB\\-") + option.short_name + "\\fR";
        }
        out += "\n" + sentences(option.summary);
    }
    return out;
}

std::string command_section(const CommandSpec& command) {
    std::string out = std::string(".SS ") + escaped(command.name) + "\n";
    out += std::string(".B iotspot\\-helper ") + escaped(command.name) + "\n";
    for (const auto* option : usage_options(command.name)) {
        out += "[" + option_synopsis(*option) + "]\n";
    }
    if (*command.operand_usage != '\0') {
        out += escaped(command.operand_usage) + "\n";
    }
    out += ".PP\n";
    const auto description = command_description(command.name);
    out += roff_text(description.empty() ? std::string_view(command.summary) : description);
    const auto options = option_items(false, command.name);
    if (!options.empty()) {
        out += ".PP\nOptions:\n" + options;
    }
    return out;
}

std::string commands_section() {
    std::string out = ".SH COMMANDS\n";
    for (const auto& command : command_specs) {
        const std::string_view name = command.name;
        // get, store and erase share one description: show it once, under get.
        if (!is_listed(command) || name == "help" || name == "version" || name == "store" ||
            name == "erase") {
            continue;
        }
        if (name == "get") {
            out += ".SS get, store, erase\n.B iotspot\\-helper\n[\\fB\\-\\-profile\\fR "
                   "\\fIP\\fR] [\\fB\\-\\-min\\-ttl\\fR \\fISECONDS\\fR]\n"
                   ".BR get | store | erase\n.PP\n" +
                   roff_text(command_description(name));
            continue;
        }
        out += command_section(command);
    }
    return out;
}

template <typename Entries> std::string list_section(const char* title, const Entries& entries) {
    std::string out = std::string(".SH ") + title + "\n";
    for (const HelpEntry& entry : entries) {
        out += std::string(".TP\n.B ") + escaped(entry.name) + "\n" + sentences(entry.meaning);
    }
    return out;
}

} // namespace

std::string manual_page(const std::string& date) {
    std::string out = ".\\\" Generated by `iotspot-helper __man` from the helper's own tables.\n";
    out += ".TH IOTSPOT\\-HELPER 1 " + date + " \"iotspot\\-helper " + escaped(version_number()) +
           "\"\n";
    out += ".SH NAME\niotspot\\-helper \\- OAuth2 tokens for the iotspot API, cached "
           "encrypted,\nfor scripts, shells and tools\n";
    out += ".SH SYNOPSIS\n.B iotspot\\-helper\n[\\fB\\-\\-profile\\fR \\fIP\\fR] "
           "[\\fB\\-\\-verbose\\fR]\n.I COMMAND\n[\\fIOPTIONS\\fR]\n";
    out += ".SH DESCRIPTION\n" + roff_text(overview_description()) + ".PP\n" +
           roff_text(description_tail);
    out += commands_section();
    out += ".SH OPTIONS\nEvery command takes these options.\n" + option_items(true, "");
    out += list_section("ENVIRONMENT", environment_help());
    out += list_section("FILES", file_entries);
    out += ".PP\nFiles are created 0600 and directories 0700.\n"
           "Removing the package leaves them in place;\ndelete them by hand to forget every "
           "profile, secret and token.\n";
    out += ".SH EXIT STATUS\n";
    for (const auto& entry : core::exit_meanings) {
        out += ".TP\n.B " + std::to_string(static_cast<int>(entry.code)) + "\n" +
               sentences(entry.meaning);
    }
    out += ".SH EXAMPLES\n" + roff_text(examples);
    out += ".SH SEE ALSO\n" + std::string(see_also);
    return out;
}

} // namespace iotspot::cli
