#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "catch.h"
#include "core/error.h"
#include "store/token_file.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using iotspot::test::TempDir;

namespace {

std::string content_of(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

mode_t mode_of(const std::string& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

} // namespace

TEST_CASE("token file: --mode takes owner-readable modes that others cannot read") {
    CHECK(iotspot::store::parse_token_file_mode("0600") == mode_t{0600});
    CHECK(iotspot::store::parse_token_file_mode("640") == mode_t{0640});
    CHECK(iotspot::store::parse_token_file_mode("0440") == mode_t{0440});
    CHECK(iotspot::store::parse_token_file_mode("0400") == mode_t{0400});
    for (const char* bad : {"", "0644", "0660", "0700", "0040", "04640", "0x1a0", "rw", "06400"}) {
        INFO(bad);
        CHECK_FALSE(iotspot::store::parse_token_file_mode(bad));
    }
}

TEST_CASE("token file: the token alone on one line, with the mode asked for, replaced whole") {
    TempDir dir;
    const std::string path = dir / "run/api.token";
    iotspot::store::write_token_file(path, "first", 0640);
    CHECK(content_of(path) == "first\n");
    CHECK(mode_of(path) == 0640);
    CHECK(mode_of(dir / "run") == 0700);
    iotspot::store::write_token_file(path, "second", 0600);
    CHECK(content_of(path) == "second\n");
    CHECK(mode_of(path) == 0600);
    CHECK(iotspot::store::remove_token_file(path));
    CHECK_FALSE(iotspot::store::remove_token_file(path));
}

TEST_CASE("token file: a link at FILE is refused and its target never created") {
    TempDir dir;
    const std::string link = dir / "link.token";
    REQUIRE(::symlink((dir / "target").c_str(), link.c_str()) == 0);
    CHECK_THROWS_AS(iotspot::store::write_token_file(link, "token", 0600), StoreRefused);
    struct stat info {};
    CHECK(::lstat((dir / "target").c_str(), &info) != 0);
    CHECK_FALSE(iotspot::store::remove_token_file(link));
    CHECK(::lstat(link.c_str(), &info) == 0);
}

TEST_CASE("token file: a FIFO or directory at FILE is refused") {
    TempDir dir;
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    REQUIRE(::mkdir((dir / "dir").c_str(), 0700) == 0);
    CHECK_THROWS_AS(iotspot::store::write_token_file(dir / "fifo", "token", 0600), StoreRefused);
    CHECK_THROWS_AS(iotspot::store::write_token_file(dir / "dir", "token", 0600), StoreRefused);
}
