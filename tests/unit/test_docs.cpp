// docs/usage.md's tables of commands, settings and exit codes are prose around the tables in
// the code (cli/command_table.h, core/settings.h, core/error.h): these tests fail when a row
// of the code has no row in the docs, so the two cannot drift apart.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catch.h"
#include "cli/command_table.h"
#include "core/error.h"
#include "core/settings.h"

using namespace iotspot;

namespace {

// The rows of the table in docs/usage.md whose header line starts with `header`.
std::vector<std::string> table_rows(const std::string& header) {
    std::ifstream file(IOTSPOT_SOURCE_DIR "/docs/usage.md");
    REQUIRE(file);
    std::vector<std::string> rows;
    std::string line;
    bool inside = false;
    while (std::getline(file, line)) {
        if (!inside) {
            inside = line.rfind(header, 0) == 0;
            continue;
        }
        if (line.rfind("|", 0) != 0) {
            break;
        }
        if (line.rfind("| ---", 0) != 0) {
            rows.push_back(line);
        }
    }
    REQUIRE_FALSE(rows.empty());
    return rows;
}

// The command table's rows that describe `command`: a cell starting with it, or naming it
// after a comma (`get`, `store`, `erase`).
std::string rows_of_command(const std::vector<std::string>& rows, const std::string& command) {
    std::string found;
    for (const auto& row : rows) {
        const auto cell = row.substr(0, row.find(" | "));
        if (cell.rfind("| `" + command + " ", 0) == 0 ||
            cell.rfind("| `" + command + "`", 0) == 0 ||
            cell.find(", `" + command + "`") != std::string::npos) {
            found += row;
        }
    }
    return found;
}

} // namespace

TEST_CASE("docs: usage.md has a row for every command and names each command's options") {
    const auto rows = table_rows("| command |");
    for (const auto& command : cli::command_specs) {
        if (*command.summary == '\0') {
            continue; // hidden
        }
        INFO("command " << command.name);
        const auto text = rows_of_command(rows, command.name);
        CHECK_FALSE(text.empty());
        for (const auto& option : cli::option_specs) {
            std::istringstream commands(option.commands);
            for (std::string name; commands >> name;) {
                if (name == command.name) {
                    INFO("option --" << option.name);
                    const bool named =
                        text.find(std::string("--") + option.name) != std::string::npos;
                    const bool short_named =
                        option.short_name != '\0' &&
                        text.find(std::string("[-") + option.short_name) != std::string::npos;
                    CHECK((named || short_named));
                }
            }
        }
    }
}

TEST_CASE("docs: usage.md's settings table has every setting with its variable") {
    const auto rows = table_rows("| setting |");
    for (const auto& setting : core::all_settings) {
        INFO("setting " << setting.key);
        const std::string key = std::string("`") + setting.key + "`";
        std::string row;
        for (const auto& candidate : rows) {
            if (candidate.find(key) != std::string::npos) {
                row = candidate;
            }
        }
        REQUIRE_FALSE(row.empty());
        if (setting.variable) {
            CHECK(row.find(std::string("`") + setting.variable + "`") != std::string::npos);
        }
    }
}

TEST_CASE("docs: usage.md's exit codes are the codes of core/error.h, in order") {
    const auto rows = table_rows("| code |");
    REQUIRE(rows.size() == std::size(core::exit_meanings));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto code = static_cast<int>(core::exit_meanings[i].code);
        INFO("exit code " << code);
        CHECK(rows[i].rfind("| " + std::to_string(code) + " |", 0) == 0);
    }
}
