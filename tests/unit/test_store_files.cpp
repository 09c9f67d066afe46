#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "catch.h"
#include "core/error.h"
#include "store/files.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using iotspot::test::Contains;
using iotspot::test::TempDir;

namespace {

mode_t mode_of(const std::string& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

std::string content_of(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Sets the umask for the lifetime of the object.
class Umask {
public:
    explicit Umask(mode_t mask) : old_(::umask(mask)) {}
    ~Umask() { ::umask(old_); }
    Umask(const Umask&) = delete;
    Umask& operator=(const Umask&) = delete;

private:
    mode_t old_;
};

} // namespace

TEST_CASE("files: a private directory is created 0700 with its missing parents") {
    const TempDir temp;
    const Umask loose(022);
    const std::string dir = temp / "a/b/iotspot-helper";
    iotspot::store::ensure_private_dir(dir);
    CHECK(mode_of(dir) == 0700);
    iotspot::store::ensure_private_dir(dir); // existing and private: fine
    CHECK(mode_of(dir) == 0700);
}

TEST_CASE("files: a directory others can read is refused with the chmod that fixes it") {
    const TempDir temp;
    const std::string dir = temp / "shared";
    REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    for (const mode_t mode : {0750, 0705, 0710, 0701}) {
        REQUIRE(::chmod(dir.c_str(), mode) == 0);
        CHECK_THROWS_AS(iotspot::store::ensure_private_dir(dir), StoreRefused);
        try {
            iotspot::store::ensure_private_dir(dir);
        } catch (const Error& error) {
            CHECK(error.code() == Exit::store);
            CHECK_THAT(error.what(), Contains("chmod 700 " + dir));
        }
    }
}

TEST_CASE("files: a file where the directory should be is refused") {
    const TempDir temp;
    const std::string path = temp / "not-a-dir";
    std::ofstream(path) << "x";
    try {
        iotspot::store::ensure_private_dir(path);
        FAIL("no error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), Contains("is not a directory"));
    }
}

TEST_CASE("files: a file others can read is refused and a missing or private one is fine") {
    const TempDir temp;
    const std::string path = temp / "key";
    CHECK_NOTHROW(iotspot::store::check_private_file(path));
    std::ofstream(path) << "secret";
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    CHECK_NOTHROW(iotspot::store::check_private_file(path));
    for (const mode_t mode : {0640, 0604, 0660, 0602}) {
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        try {
            iotspot::store::check_private_file(path);
            FAIL("no error for mode " << mode);
        } catch (const StoreRefused& error) {
            CHECK_THAT(error.what(), Contains("chmod 600 " + path));
        }
    }
}

TEST_CASE("files: read_file returns the content, or nothing for a missing file") {
    const TempDir temp;
    CHECK_FALSE(iotspot::store::read_file(temp / "missing", "key file"));
    std::ofstream(temp / "data", std::ios::binary) << std::string("a\0b\n", 4);
    CHECK(iotspot::store::read_file(temp / "data", "key file") == std::string("a\0b\n", 4));
    try {
        iotspot::store::read_file(temp.path(), "key file"); // a directory cannot be read as a file
        FAIL("no error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), Contains("key file " + temp.path()));
    }
}

TEST_CASE("files: open_regular_file gives a descriptor, nothing for a missing file, or why not") {
    const TempDir temp;
    const auto missing = open_regular_file(temp / "missing", O_RDONLY, "lock file");
    REQUIRE(missing.ok());
    CHECK_FALSE(missing.value());

    const auto created = open_regular_file(temp / "new", O_RDWR | O_CREAT, "lock file");
    REQUIRE(created.ok());
    CHECK(created.value());
    CHECK(mode_of(temp / "new") == 0600);

    REQUIRE(::symlink((temp / "new").c_str(), (temp / "link").c_str()) == 0);
    const auto link = open_regular_file(temp / "link", O_RDONLY, "lock file");
    REQUIRE_FALSE(link.ok());
    CHECK(link.error().refused);
    CHECK_THAT(link.error().message,
               Contains("lock file " + temp / "link" + " is a symbolic link"));

    REQUIRE(::mkfifo((temp / "fifo").c_str(), 0600) == 0);
    const auto fifo = open_regular_file(temp / "fifo", O_RDONLY, "lock file");
    REQUIRE_FALSE(fifo.ok());
    CHECK(fifo.error().refused);
    CHECK_THAT(fifo.error().message, Contains("is a FIFO"));

    const auto unreachable =
        open_regular_file(temp / "missing/file", O_RDWR | O_CREAT, "lock file");
    REQUIRE_FALSE(unreachable.ok());
    CHECK_FALSE(unreachable.error().refused);
    CHECK_THAT(unreachable.error().message, Contains("cannot open lock file"));
}

TEST_CASE("files: write_file_atomic writes a 0600 file whatever the umask") {
    const TempDir temp;
    const Umask loose(0);
    const std::string path = temp / "config";
    iotspot::store::write_file_atomic(path, "first\n", "config file");
    CHECK(content_of(path) == "first\n");
    CHECK(mode_of(path) == 0600);
}

TEST_CASE("files: write_file_atomic replaces the file, never rewrites it in place") {
    const TempDir temp;
    const std::string path = temp / "config";
    iotspot::store::write_file_atomic(path, "old content\n", "config file");
    // A reader that opened the old file keeps reading the old content: the new one is a new
    // file renamed over it, so nobody ever sees half of each.
    const std::string reader = temp / "reader";
    REQUIRE(::link(path.c_str(), reader.c_str()) == 0);
    iotspot::store::write_file_atomic(path, "new\n", "config file");
    CHECK(content_of(path) == "new\n");
    CHECK(content_of(reader) == "old content\n");
    // No temporary file is left beside it.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(temp.path())) {
        ++entries;
    }
    CHECK(entries == 2);
}

TEST_CASE("files: write_file_atomic into a missing directory fails naming the file") {
    const TempDir temp;
    const std::string path = temp / "missing/config";
    try {
        iotspot::store::write_file_atomic(path, "x", "config file");
        FAIL("no error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), Contains("cannot write config file " + path));
    }
}

TEST_CASE("files: create_file_once keeps the first content, 0600") {
    const TempDir temp;
    const Umask loose(0);
    const std::string path = temp / "key";
    CHECK(iotspot::store::create_file_once(path, "first", "key file") == "first");
    CHECK(iotspot::store::create_file_once(path, "second", "key file") == "first");
    CHECK(content_of(path) == "first");
    CHECK(mode_of(path) == 0600);
}

TEST_CASE("files: parent_dir") {
    CHECK(iotspot::store::parent_dir("/a/b/c") == "/a/b");
    CHECK(iotspot::store::parent_dir("/a") == "/");
    CHECK(iotspot::store::parent_dir("relative") == "/");
}
