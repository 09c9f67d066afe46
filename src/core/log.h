#pragma once
// Diagnostics on stderr: warnings always, progress notes only with --verbose.
// Callers never pass a token or a secret; messages name profiles, URLs and times only.
// Header-only, so the network module can log through the same object.

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace iotspot::core {

class Log {
public:
    using Sink = std::function<void(std::string_view line)>;

    /// Writes "iotspot-helper: ..." lines to stderr.
    explicit Log(bool verbose = false) : Log(verbose, write_stderr) {}
    /// Sends lines to `sink` instead (tests).
    Log(bool verbose, Sink sink) : verbose_(verbose), sink_(std::move(sink)) {}

    bool verbose() const { return verbose_; }
    void warning(std::string_view message) const { sink_("warning: " + std::string(message)); }
    /// A line that is part of a command's normal output on stderr (serve's request log).
    void info(std::string_view message) const { sink_(message); }
    /// Only with --verbose.
    void note(std::string_view message) const {
        if (verbose_) {
            sink_(message);
        }
    }

private:
    static void write_stderr(std::string_view line) {
        std::string text = "iotspot-helper: ";
        text.append(line);
        text.push_back('\n');
        std::fwrite(text.data(), 1, text.size(), stderr);
    }

    bool verbose_;
    Sink sink_;
};

} // namespace iotspot::core
