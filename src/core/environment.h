#pragma once
// The process environment as a value, so that configuration code is tested without setenv().

#include <map>
#include <optional>
#include <string>

namespace iotspot::core {

class Environment {
public:
    Environment() = default;
    explicit Environment(std::map<std::string, std::string> variables)
        : variables_(std::move(variables)) {}

    /// Copies the variables this program reads (HOME, TMPDIR, CREDENTIALS_DIRECTORY, XDG_*,
    /// IOTSPOT_*) from `environ`.
    static Environment from_process();

    /// The value of `name`, or nullopt when it is unset or empty.
    std::optional<std::string> get(const std::string& name) const;

private:
    std::map<std::string, std::string> variables_;
};

} // namespace iotspot::core
