#include <memory>
#include <stdexcept>
#include <string>

#include "catch.h"
#include "util/defer.h"
#include "util/result.h"

using iotspot::util::Defer;
using iotspot::util::Failure;
using iotspot::util::Result;

namespace {

Result<int> halve(int n) {
    if (n % 2 != 0) {
        return Failure{std::to_string(n) + " is odd"};
    }
    return n / 2;
}

Result<void> check_positive(int n) {
    if (n <= 0) {
        return Failure{"not positive"};
    }
    return {};
}

} // namespace

TEST_CASE("result: a value is ok and gives the value") {
    const auto half = halve(8);
    REQUIRE(half.ok());
    CHECK(static_cast<bool>(half));
    CHECK(half.value() == 4);
}

TEST_CASE("result: a failure is not ok and gives its message") {
    const auto half = halve(7);
    REQUIRE_FALSE(half.ok());
    CHECK_FALSE(static_cast<bool>(half));
    CHECK(half.error() == "7 is odd");
}

TEST_CASE("result: a move-only value can be taken out") {
    Result<std::unique_ptr<int>> boxed(std::make_unique<int>(5));
    const std::unique_ptr<int> taken = std::move(boxed).value();
    REQUIRE(taken != nullptr);
    CHECK(*taken == 5);
}

TEST_CASE("result: a string value and a string error are told apart") {
    const Result<std::string> value(std::string("error"));
    const Result<std::string> failure(Failure{"value"});
    CHECK(value.ok());
    CHECK(value.value() == "error");
    CHECK_FALSE(failure.ok());
    CHECK(failure.error() == "value");
}

TEST_CASE("result: an error type of the caller's choice") {
    struct Problem {
        bool refused;
        std::string message;
    };
    const Result<int, Problem> refused(Failure{Problem{true, "a link"}});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().refused);
    CHECK(refused.error().message == "a link");
}

TEST_CASE("result: without a value, success or a message") {
    CHECK(check_positive(1).ok());
    const auto failed = check_positive(0);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error() == "not positive");
}

TEST_CASE("defer: the action runs when the scope ends, by return or by exception") {
    int runs = 0;
    {
        const Defer count([&] { ++runs; });
        CHECK(runs == 0);
    }
    CHECK(runs == 1);
    try {
        const Defer count([&] { ++runs; });
        throw std::runtime_error("leaving");
    } catch (const std::runtime_error&) {
        CHECK(runs == 2);
    }
}

TEST_CASE("defer: a dismissed action does not run") {
    int runs = 0;
    {
        Defer count([&] { ++runs; });
        count.dismiss();
    }
    CHECK(runs == 0);
}
