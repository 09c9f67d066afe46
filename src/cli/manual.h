#pragma once
// The man page iotspot-helper(1), written in roff from the same tables as --help
// (cli/command_table.h, cli/help.h, core/error.h), so the two cannot disagree.

#include <string>

namespace iotspot::cli {

/// The whole of iotspot-helper(1), dated `date` (YYYY-MM-DD).
std::string manual_page(const std::string& date);

} // namespace iotspot::cli
