#include <fstream>
#include <sys/stat.h>

#include "catch.h"
#include "core/error.h"
#include "store/key_file.h"
#include "temp_dir.h"

using iotspot::core::Error;
using iotspot::core::Exit;
using iotspot::store::load_or_create_key;
using iotspot::test::TempDir;

TEST_CASE("key file: the key file is created 0600 once and read back") {
    TempDir dir;
    const auto path = dir / "data/key";
    const auto first = load_or_create_key(path);
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir / "data").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    const auto again = load_or_create_key(path);
    const auto sealed = iotspot::core::seal(first, "v", "ad");
    CHECK(iotspot::core::open(again, sealed, "ad") == std::string("v"));
}

TEST_CASE("key file: a key file others can read is refused with the chmod that fixes it") {
    TempDir dir;
    const auto path = dir / "data/key";
    load_or_create_key(path);
    ::chmod(path.c_str(), 0644);
    try {
        load_or_create_key(path);
        FAIL("expected a refusal");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), iotspot::test::Contains("chmod 600 " + path));
    }
}

TEST_CASE("key file: a damaged key file is an error, not a new key") {
    TempDir dir;
    const auto path = dir / "data/key";
    load_or_create_key(path);
    std::ofstream(path, std::ios::trunc) << "short";
    CHECK_THROWS_AS(load_or_create_key(path), Error);
}
