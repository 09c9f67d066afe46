#include "core/environment.h"

#include <cstring>

extern char** environ;

namespace iotspot::core {

Environment Environment::from_process() {
    std::map<std::string, std::string> variables;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const char* text = *entry;
        const char* equals = std::strchr(text, '=');
        if (equals == nullptr) {
            continue;
        }
        std::string name(text, equals);
        if (name == "HOME" || name == "TMPDIR" || name == "CREDENTIALS_DIRECTORY" ||
            name.rfind("XDG_", 0) == 0 || name.rfind("IOTSPOT_", 0) == 0) {
            variables.emplace(std::move(name), equals + 1);
        }
    }
    return Environment(std::move(variables));
}

std::optional<std::string> Environment::get(const std::string& name) const {
    const auto it = variables_.find(name);
    if (it == variables_.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace iotspot::core
