#pragma once

namespace iotspot::cli {

/// Runs iotspot-helper with the process's arguments and returns the exit status. The one
/// place that catches errors and prints them.
int run(int argc, char** argv);

} // namespace iotspot::cli
