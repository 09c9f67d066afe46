#pragma once
// The credential-helper protocol of git-credential(1), spoken by git and by the tools that
// copied it. git runs `git-credential-iotspot get`, writes a request on its standard input
// and closes it:
//
//   protocol=https
//   host=api.iotspot.co
//   capability[]=authtype            (git 2.46+)
//
// and reads the answer from its standard output:
//
//   capability[]=authtype            (these four only when the request offered authtype)
//   authtype=Bearer
//   credential=eyJraWQiOiJ...
//   ephemeral=1
//   username=4d3c2b1a0example
//   password=eyJraWQiOiJ...
//   password_expiry_utc=1764150000
//
// Input is `key=value` lines up to a blank line or the end of input; CRLF line endings are
// accepted; unknown keys are ignored; a repeated key replaces the earlier value, except keys
// ending in "[]", which are arrays (each line appends; an empty value clears the array).
// `url=scheme://[user@]host[:port]/path` sets protocol, username, host and path at once, as
// git does. A line without '=', a NUL byte, a line over 65,535 bytes and input over 1 MiB
// are protocol errors: hostile input is refused without being read forever.

#include <cstddef>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotspot::core {

inline constexpr std::size_t credential_max_line = 65535;        ///< bytes, line ending excluded
inline constexpr std::size_t credential_max_input = 1024 * 1024; ///< bytes read at most

/// One request as git sends it. An empty string means the attribute was not given.
struct CredentialRequest {
    std::string protocol; ///< "https"
    std::string host;     ///< "api.iotspot.co", with ":port" when not the default
    std::string path;     ///< without leading '/'; sent only with credential.useHttpPath
    std::string username;
    std::string password;                  ///< sent by git with store and erase; never logged
    std::vector<std::string> capabilities; ///< capability[]: "authtype", "state" (git 2.46+)
    std::vector<std::string> wwwauth;      ///< wwwauth[]: the server's WWW-Authenticate headers
    std::vector<std::string> state;        ///< state[]: what helpers asked git to hand back
    std::size_t attributes = 0;            ///< key=value lines read, known keys or not

    /// True when the request lists `name` in capability[].
    bool has_capability(std::string_view name) const;
};

/// Reads one request from `in`: key=value lines up to a blank line or the end of input.
/// Throws Error(usage) naming the line for a line without '=', a NUL byte, a line over
/// credential_max_line bytes, more than credential_max_input bytes, or an unparsable url=.
CredentialRequest read_credential(std::istream& in);

/// Writes `attributes` as key=value lines, in order, or nothing at all when a key is empty or
/// holds '=', or a value holds a line break or NUL byte: then it throws Error(failure).
void write_credential(std::ostream& out,
                      const std::vector<std::pair<std::string, std::string>>& attributes);

/// True when the request is for the API at `api_url`: same scheme and host (letter case
/// ignored, default ports 443 and 80 implied) and, when the request has a path, the path of
/// `api_url` is a prefix of it on '/' boundaries ("v1" matches "v1/x", not "v10"). A host
/// "*.DOMAIN" in `api_url` stands for DOMAIN and every host under it, at any depth
/// ("https://*.iotspot.co" matches iotspot.co, api.iotspot.co and a.b.iotspot.co, not
/// evil-iotspot.co). A request without protocol or host matches nothing.
bool api_url_matches(const CredentialRequest& request, const std::string& api_url);

} // namespace iotspot::core
