#include <algorithm>
#include <stdexcept>

#include "catch.h"
#include "cli/command_table.h"
#include "cli/completion.h"

using namespace iotspot;
using cli::complete_words;
using Words = std::vector<std::string>;

namespace {

std::vector<std::string> some_profiles() {
    return {"default", "staging-2", "eu.prod_1"};
}

std::vector<std::string> no_profiles_wanted() {
    throw std::logic_error("profile names asked for");
}

std::vector<std::string> broken_config() {
    throw std::runtime_error("config file, line 3: expected a section header");
}

// The candidates without their descriptions.
Words offered(const Words& words, const cli::ProfileSource& profiles = some_profiles) {
    const auto completion = complete_words(words, profiles);
    Words names;
    for (const auto& candidate : completion.candidates) {
        names.push_back(candidate.substr(0, candidate.find('\t')));
    }
    return names;
}

std::string directive(const Words& words) {
    return complete_words(words, no_profiles_wanted).directive;
}

} // namespace

TEST_CASE("completion: command names, with their summaries") {
    CHECK(offered({"to"}, no_profiles_wanted) == Words{"token"});
    CHECK(offered({"e"}) == Words{"env", "exec", "erase"});
    CHECK(offered({"--profile", "staging-2", "hea"}) == Words{"header"});
    const auto completion = complete_words({"tok"}, no_profiles_wanted);
    CHECK(completion.candidates == Words{"token\tprint the access token"});
    CHECK(completion.directive == ":none");
}

TEST_CASE("completion: hidden commands are not offered") {
    CHECK(offered({"__"}).empty());
    CHECK(offered({"__complete", ""}).empty());
}

TEST_CASE("completion: a command's options, value-taking ones ending in =") {
    CHECK(offered({"token", "--m"}) == Words{"--min-ttl="});
    CHECK(offered({"status", "--m"}).empty());
    CHECK(offered({"logout", "--f"}) == Words{"--forget-secret"});
    const auto before_command = offered({"--"});
    CHECK(before_command == Words{"--profile=", "--verbose", "--help", "--version"});
}

TEST_CASE("completion: every option in the table is offered for the commands accepting it") {
    for (const auto& command : cli::command_specs) {
        if (!cli::is_listed(command)) {
            continue;
        }
        const auto options = offered({command.name, "--"});
        for (const auto& option : cli::option_specs) {
            const std::string word =
                std::string("--") + option.name + (option.value == cli::Value::none ? "" : "=");
            const bool is_offered =
                std::find(options.begin(), options.end(), word) != options.end();
            CHECK(is_offered == cli::accepts(option, command.name));
        }
    }
}

TEST_CASE("completion: profile names after --profile, in either spelling") {
    CHECK(offered({"--profile", ""}) == some_profiles());
    CHECK(offered({"token", "--profile", "st"}) == Words{"staging-2"});
    CHECK(offered({"--profile=eu"}) == Words{"--profile=eu.prod_1"});
}

TEST_CASE("completion: only valid profile names reach the shell") {
    const auto odd = [] { return Words{"ok", "bad\x1b[31m", "", "new\nline", "x\tz"}; };
    CHECK(offered({"--profile", ""}, odd) == Words{"ok"});
}

TEST_CASE("completion: a config that cannot be read offers no profile names") {
    const auto completion = complete_words({"--profile", ""}, broken_config);
    CHECK(completion.candidates.empty());
    CHECK(completion.directive == ":none");
}

TEST_CASE("completion: choices, shells, free text") {
    CHECK(offered({"env", "--shell", "f"}) == Words{"fish"});
    CHECK(offered({"env", "--shell=p"}) == Words{"--shell=powershell", "--shell=pwsh"});
    CHECK(offered({"api", "-X", "P"}) == Words{"POST", "PUT", "PATCH"});
    CHECK(offered({"completion", ""}) == Words{"bash", "zsh", "fish"});
    CHECK(offered({"completion", "bash", ""}).empty());
    CHECK(offered({"token", "--min-ttl", ""}).empty());
    CHECK(offered({"token", ""}).empty());
}

TEST_CASE("completion: file names are left to the shell") {
    CHECK(directive({"configure", "--ca-file", "/tm"}) == ":file");
    CHECK(directive({"configure", "--ca-file=/tm"}) == ":file");
    CHECK(directive({"sink", "--once", ""}) == ":file");
    CHECK(directive({"sink", "--", "--odd"}) == ":file");
    CHECK(directive({"sink", "token-file", ""}) == ":none");
    CHECK(directive({"token", ""}) == ":none");
}

TEST_CASE("completion: exec runs a command line of its own") {
    CHECK(directive({"exec", "--", "git", "pu"}) == ":command 2");
    CHECK(directive({"exec", "--", ""}) == ":command 2");
    CHECK(directive({"exec", "printen"}) == ":command 1");
    CHECK(directive({"--profile", "p", "exec", "--on-refresh", "restart", "env", "-"}) ==
          ":command 5");
    CHECK(offered({"exec", "--k"}) == Words{"--keep-fresh"});
}

TEST_CASE("completion: words it cannot make sense of offer nothing") {
    for (const auto& words : {Words{}, Words{"bogus", ""}, Words{"--", ""}, Words{"--bogus=x"},
                              Words{"token", "--bogus="}, Words{"token", "--json=x"}}) {
        const auto completion = complete_words(words, no_profiles_wanted);
        CHECK(completion.directive == ":none");
        CHECK((words.empty() || completion.candidates.empty()));
    }
}

TEST_CASE("completion: the lines __complete prints end with the directive") {
    const auto text = cli::completion_lines(complete_words({"env", "--shell", "z"}, {}));
    CHECK(text == "zsh\n:none\n");
    CHECK(cli::completion_lines({{}, ":file"}) == ":file\n");
}

TEST_CASE("completion: a script for each shell, none for another") {
    for (const char* shell : {"bash", "zsh", "fish"}) {
        const auto script = cli::completion_script(shell);
        REQUIRE(script);
        CHECK(script->find("__complete --") != std::string::npos);
    }
    CHECK_FALSE(cli::completion_script("tcsh"));
}
