// Prints what `iotspot-helper env --shell SHELL` would print for the token and expiry of one
// input of the output corpus, so that real_shells.py can run it in the real shells:
//   print_env sh|fish|powershell FILE

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "core/output.h"
#include "util/strings.h"

int main(int argc, char** argv) {
    using namespace iotspot;
    const auto shell = argc == 3 ? core::parse_shell(argv[1]) : std::nullopt;
    std::ifstream in(argc == 3 ? argv[2] : "", std::ios::binary);
    if (!shell || !in) {
        std::fprintf(stderr, "usage: print_env sh|fish|powershell FILE\n");
        return 2;
    }
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto end = data.find('\n');
    const std::string token = end == std::string::npos ? std::string() : data.substr(end + 1);
    const std::string_view times = std::string_view(data).substr(0, end);
    const std::int64_t expires_at = util::parse_int(times.substr(0, times.find(' '))).value_or(0);
    const std::string text = core::format_env(token, expires_at, *shell);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}
