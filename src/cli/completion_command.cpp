// completion, __complete and __man: what the shells and the build ask the helper.

#include <exception>
#include <string>

#include "cli/completion.h"
#include "cli/context.h"
#include "cli/manual.h"
#include "core/error.h"

#ifndef IOTSPOT_RELEASE_DATE
#define IOTSPOT_RELEASE_DATE "1970-01-01"
#endif

namespace iotspot::cli {

int completion_command(Context& ctx) {
    const auto& arguments = ctx.invocation.arguments;
    const auto script = completion_script(arguments.empty() ? "" : arguments.front());
    if (!script) {
        throw core::Error(core::Exit::usage,
                          "completion needs the shell: iotspot-helper completion bash|zsh|fish");
    }
    print(*script);
    return 0;
}

int complete_command(Context& ctx) {
    const ProfileSource profiles = [&ctx] { return ctx.configured_profiles(); };
    std::string text = ":none\n";
    try {
        text = completion_lines(complete_words(ctx.invocation.arguments, profiles));
    } catch (const std::exception&) {
    }
    try {
        print(text);
    } catch (const std::exception&) {
    }
    return 0;
}

int manual_command(Context&) {
    print(manual_page(IOTSPOT_RELEASE_DATE));
    return 0;
}

} // namespace iotspot::cli
