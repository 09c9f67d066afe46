#pragma once
// Tab completion for bash, zsh and fish, generated from cli/command_table.h. The scripts ask
// the helper for profile names (`iotspot-helper __profiles`) instead of reading its files.

#include <optional>
#include <string>
#include <string_view>

namespace iotspot::cli {

/// The completion script for `shell` ("bash", "zsh" or "fish"), or nullopt for another.
std::optional<std::string> completion_script(std::string_view shell);

} // namespace iotspot::cli
