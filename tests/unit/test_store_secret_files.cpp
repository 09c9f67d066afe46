#include <fstream>
#include <functional>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include "catch.h"
#include "core/error.h"
#include "store/secret_files.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using iotspot::test::TempDir;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = dir / name;
    std::ofstream(path) << text;
    return path;
}

// The exit code and message of what `read` throws.
std::pair<Exit, std::string> failure_of(const std::function<void()>& read) {
    try {
        read();
    } catch (const Error& error) {
        return {error.code(), error.what()};
    }
    FAIL("no error");
    return {};
}

} // namespace

TEST_CASE("secret files: one trailing newline is stripped, no more") {
    TempDir dir;
    CHECK(iotspot::store::read_secret_file(write(dir, "a", "s3cret\n"), "X_FILE") == "s3cret");
    CHECK(iotspot::store::read_secret_file(write(dir, "b", "s3cret"), "X_FILE") == "s3cret");
    CHECK(iotspot::store::read_secret_file(write(dir, "c", " padded "), "X_FILE") == " padded ");
}

TEST_CASE("secret files: what cannot be a secret is refused, exit 3, naming the file") {
    TempDir dir;
    const std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::map<std::string, std::string> cases = {
        {dir / "missing", "cannot be opened"},
        {fifo, "is a FIFO"},
        {dir.path(), "is a directory"},
        {"/dev/null", "is a device"},
        {write(dir, "empty", "\n"), "is empty"},
        {write(dir, "two-lines", "one\ntwo\n"), "control character"},
        {write(dir, "large", std::string(iotspot::store::max_secret_file_size + 1, 'x')),
         "larger than"},
    };
    for (const auto& entry : cases) {
        const std::string& path = entry.first;
        const std::string& problem = entry.second;
        INFO(path);
        const auto [code, message] =
            failure_of([&path] { iotspot::store::read_secret_file(path, "X_FILE"); });
        CHECK(code == Exit::not_configured);
        CHECK(message.find(path) != std::string::npos);
        CHECK(message.find("X_FILE") != std::string::npos);
        CHECK(message.find(problem) != std::string::npos);
    }
}

TEST_CASE("secret files: a file as large as the bound is read") {
    TempDir dir;
    const std::string secret(iotspot::store::max_secret_file_size, 'x');
    CHECK(iotspot::store::read_secret_file(write(dir, "big", secret), "X_FILE") == secret);
}

TEST_CASE("secret files: the variable, then its _FILE, then the credentials directory") {
    TempDir dir;
    const std::string file = write(dir, "file", "from-file\n");
    REQUIRE(::mkdir((dir / "credentials").c_str(), 0700) == 0);
    write(dir, "credentials/iotspot-client-secret", "from-credential\n");
    const std::string credentials = dir / "credentials";
    const auto secret = [](std::map<std::string, std::string> variables) {
        return iotspot::store::secret_from_environment(Environment(std::move(variables)),
                                                       iotspot::store::client_secret_source);
    };
    CHECK(secret({{"IOTSPOT_CLIENT_SECRET", "from-variable"},
                  {"IOTSPOT_CLIENT_SECRET_FILE", file},
                  {"CREDENTIALS_DIRECTORY", credentials}}) == "from-variable");
    CHECK(secret({{"IOTSPOT_CLIENT_SECRET_FILE", file}, {"CREDENTIALS_DIRECTORY", credentials}}) ==
          "from-file");
    CHECK(secret({{"CREDENTIALS_DIRECTORY", credentials}}) == "from-credential");
    CHECK(secret({{"CREDENTIALS_DIRECTORY", dir / "none"}}) == std::nullopt);
    CHECK(secret({}) == std::nullopt);
    CHECK(iotspot::store::secret_from_environment(
              Environment({{"CREDENTIALS_DIRECTORY", credentials}}),
              iotspot::store::redis_password_source) == std::nullopt);
}
