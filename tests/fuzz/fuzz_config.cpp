// The configuration file: any text parses or is refused with a ConfigSyntaxError naming a
// line that exists; what parses renders back to text that parses to the same settings, and
// resolving any of its profiles either works or throws the project's Error.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "core/settings.h"
#include "fuzz_check.h"

using namespace iotspot::core;

namespace {

// Every setting of the table, so a new row is compared without a change here.
bool same(const ProfileSettings& a, const ProfileSettings& b) {
    return std::all_of(
        std::begin(all_settings), std::end(all_settings),
        [&](const Setting& setting) { return a.*setting.stored == b.*setting.stored; });
}

bool same(const ConfigFile& a, const ConfigFile& b) {
    return a.profiles.size() == b.profiles.size() &&
           std::equal(a.profiles.begin(), a.profiles.end(), b.profiles.begin(),
                      [](const auto& x, const auto& y) {
                          return x.first == y.first && same(x.second, y.second);
                      });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    ConfigFile config;
    try {
        config = parse_config(text);
    } catch (const ConfigSyntaxError& error) {
        const auto lines = 1 + std::count(text.begin(), text.end(), '\n');
        FUZZ_CHECK(error.line() >= 1 && error.line() <= lines);
        FUZZ_CHECK(iotspot::fuzz::is_one_line(error.what()));
        return 0;
    }

    const std::string rendered = render_config(config);
    FUZZ_CHECK(same(config, parse_config(rendered)));

    const Environment empty;
    for (const auto& [name, settings] : config.profiles) {
        try {
            const Profile profile = resolve_profile(name, config, empty);
            FUZZ_CHECK(profile.name == name && !profile.client_id.empty());
            FUZZ_CHECK(profile.token_url.rfind("https://", 0) == 0);
        } catch (const Error& error) {
            FUZZ_CHECK(error.code() == Exit::not_configured);
            FUZZ_CHECK(iotspot::fuzz::is_one_line(error.what()));
        }
    }
    return 0;
}
