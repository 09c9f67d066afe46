#pragma once
// Tab completion for bash, zsh and fish. The scripts are short and fixed: on each TAB they
// ask the helper, which answers from cli/command_table.h and the config. A sample exchange:
//
//   $ iotspot-helper __complete -- token --m
//   --min-ttl=<TAB>a token with at least this much remaining life
//   :none
//   $ iotspot-helper __complete -- --profile=st
//   --profile=staging-2
//   :none
//   $ iotspot-helper __complete -- sink ''
//   :file
//   $ iotspot-helper __complete -- exec -- git pu
//   :command 2
//
// The words are the command line after the program name, the last one being completed (empty
// after a space). The answer is one candidate a line, those that begin with that word, each
// optionally followed by a tab and a description; a candidate ending in "=" takes its value in
// the same word (no space after it). The last line is the directive:
//   :none       the candidates above are all
//   :file       complete a file name (a "--name=" at the start of the word stays)
//   :command N  the words from index N (0 is the first word) are a command line of their own,
//               as after `exec --`: complete them as the shell would (at N itself: a command)

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotspot::cli {

/// What the shell is told to offer for the word being completed.
struct Completion {
    std::vector<std::string> candidates; ///< "word" or "word\tdescription"
    std::string directive;               ///< ":none", ":file" or ":command N"
};

/// The configured profile names; called only when a profile name is being completed.
using ProfileSource = std::function<std::vector<std::string>()>;

/// What to offer for the last of `words` (see above). Words it cannot make sense of give no
/// candidates; never throws for any words (a throwing `profiles` gives no profile names).
Completion complete_words(const std::vector<std::string>& words, const ProfileSource& profiles);

/// `completion` as __complete prints it: the candidates, then the directive, a line each.
std::string completion_lines(const Completion& completion);

/// The completion script for `shell` ("bash", "zsh" or "fish"), or nullopt for another.
std::optional<std::string> completion_script(std::string_view shell);

} // namespace iotspot::cli
