#pragma once

namespace iotspot::cli {

/// Runs iotspot-helper with the process's arguments and returns the exit status. The one
/// place that catches errors and prints them.
/// Before anything else it makes the process non-dumpable and sets its core-file limit to 0
/// (it may hold the client secret, the key and tokens).
int run(int argc, char** argv);

/// Gives the core-file limit back as it was when run() started (exec, before it runs the
/// user's command, which is dumpable again anyway: execve resets that).
void restore_core_limit();

} // namespace iotspot::cli
