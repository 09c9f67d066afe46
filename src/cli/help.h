#pragma once

#include <string>

namespace iotspot::cli {

/// The text of `iotspot-helper --help`, or of `iotspot-helper COMMAND --help`.
std::string help_text(const std::string& command);

/// "iotspot-helper X.Y.Z".
std::string version_text();

} // namespace iotspot::cli
