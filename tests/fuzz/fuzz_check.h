#pragma once
// What every fuzz harness shares: a check that stops the run with the failed condition, in
// libFuzzer builds and in the corpus replay that ctest runs with gcc alike.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace iotspot::fuzz {

/// Prints the failed condition and aborts, which libFuzzer reports as a crash and saves.
[[noreturn]] inline void fail(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
    std::abort();
}

/// True when `text` holds no byte below 0x20 and no DEL: it prints as one line.
inline bool is_one_line(std::string_view text) {
    for (const char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

} // namespace iotspot::fuzz

/// Aborts the run when `condition` is false.
#define FUZZ_CHECK(condition)                                                                      \
    ((condition) ? static_cast<void>(0) : ::iotspot::fuzz::fail(#condition, __FILE__, __LINE__))

/// Aborts the run: `what` names the case that must not happen.
#define FUZZ_FAIL(what) ::iotspot::fuzz::fail(what, __FILE__, __LINE__)
