#include "catch.h"
#include "cli/args.h"
#include "cli/command_table.h"
#include "core/error.h"
#include "core/settings.h"

using namespace iotspot;
using cli::parse_arguments;

namespace {
core::Exit exit_of(const std::vector<std::string>& args) {
    try {
        parse_arguments(args);
    } catch (const core::Error& error) {
        return error.code();
    }
    return core::Exit::ok;
}
} // namespace

TEST_CASE("args: options before and after the command, both spellings") {
    const auto inv = parse_arguments({"--profile", "ci", "token", "--min-ttl=600", "--json"});
    CHECK(inv.command == "token");
    CHECK(inv.value("profile") == std::string("ci"));
    CHECK(inv.seconds("min-ttl") == 600);
    CHECK(inv.has("json"));
}

TEST_CASE("args: exec takes everything after --") {
    const auto inv = parse_arguments({"exec", "--profile", "p", "--", "curl", "--json", "x"});
    CHECK(inv.command == "exec");
    CHECK(inv.arguments == std::vector<std::string>{"curl", "--json", "x"});
}

TEST_CASE("args: exec also takes a command without --") {
    const auto inv = parse_arguments({"exec", "env", "-i"});
    CHECK(inv.arguments == std::vector<std::string>{"env", "-i"});
}

TEST_CASE("args: prefetch takes --profile more than once") {
    const auto inv = parse_arguments({"prefetch", "--profile", "a", "--profile", "b"});
    CHECK(inv.values("profile") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("args: mistakes are usage errors (exit 2)") {
    CHECK(exit_of({"tokn"}) == core::Exit::usage);
    CHECK(exit_of({"token", "--jsn"}) == core::Exit::usage);
    CHECK(exit_of({"token", "--shell", "fish"}) == core::Exit::usage); // not for token
    CHECK(exit_of({"token", "--profile"}) == core::Exit::usage);       // missing value
    CHECK(exit_of({"token", "--json=yes"}) == core::Exit::usage);
    CHECK(exit_of({"token", "extra"}) == core::Exit::usage);
    CHECK(exit_of({"token", "-x"}) == core::Exit::usage);
    CHECK_THROWS_AS(parse_arguments({"token", "--min-ttl", "soon"}).seconds("min-ttl"),
                    core::Error);
    CHECK_THROWS_AS(parse_arguments({"token", "--min-ttl", "-5"}).seconds("min-ttl"), core::Error);
}

TEST_CASE("args: completion takes one shell name, nothing more") {
    CHECK(parse_arguments({"completion", "zsh"}).arguments == std::vector<std::string>{"zsh"});
    CHECK(exit_of({"completion", "zsh", "fish"}) == core::Exit::usage);
    CHECK(exit_of({"token", "zsh"}) == core::Exit::usage);
}

TEST_CASE("args: short flags come from the table") {
    CHECK(parse_arguments({"-v", "status"}).has("verbose"));
    CHECK(parse_arguments({"-h"}).has("help"));
    CHECK(parse_arguments({"-V"}).has("version"));
    CHECK(exit_of({"-q"}) == core::Exit::usage);
    CHECK(exit_of({"-"}) == core::Exit::usage);
}

TEST_CASE("args: configure takes one option per setting, with a value") {
    for (const auto& setting : core::all_settings) {
        const std::string option = std::string("--") + setting.option;
        const auto inv = parse_arguments({"configure", option, "v"});
        CHECK(inv.value(setting.option) == std::string("v"));
        CHECK(exit_of({"token", option, "v"}) == core::Exit::usage);
        CHECK(exit_of({"configure", option}) == core::Exit::usage);
    }
}

TEST_CASE("args: an option that does not apply is named in the order given") {
    try {
        parse_arguments({"token", "--shell", "fish", "--all"});
        FAIL("options of other commands were accepted");
    } catch (const core::Error& error) {
        CHECK(std::string(error.what()) ==
              "--shell does not apply to token; see iotspot-helper token --help");
    }
}

TEST_CASE("args: every command the parser knows has a handler") {
    for (const auto& command : cli::command_specs) {
        CHECK(parse_arguments({command.name}).command == command.name);
        CHECK(command.run != nullptr);
    }
}
