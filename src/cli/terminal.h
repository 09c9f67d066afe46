#pragma once
// Reading a secret: from the terminal without echo, or from standard input.

#include <istream>
#include <optional>
#include <string>

namespace iotspot::cli {

/// True when /dev/tty can be opened (an interactive session).
bool have_terminal();

/// Prompts on /dev/tty and reads one line with echo off; nullopt without a terminal.
std::optional<std::string> read_secret_from_terminal(const std::string& prompt);

/// Reads the first line of `in` (without its line ending), at most `limit` bytes; throws
/// Error(usage) when it is empty, too long, or contains a control character.
std::string read_secret_line(std::istream& in, std::size_t limit = 4096);

} // namespace iotspot::cli
