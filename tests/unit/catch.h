#pragma once
// Catch2 for the unit tests, whichever major version Debian ships: 2.13 on Debian 12
// (one header, `catch2/catch.hpp`) or 3.x on Debian 13 (split headers). The tests include
// this file and use the names below, which mean the same in both.

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

namespace iotspot::test {
using Catch::Approx;
/// A matcher for a string holding `part`.
inline auto Contains(const std::string& part) {
    return Catch::Matchers::ContainsSubstring(part);
}
using Catch::Matchers::StartsWith;
} // namespace iotspot::test
#else
#include <catch2/catch.hpp>

namespace iotspot::test {
using Catch::Contains;
using Catch::StartsWith;
using Catch::Detail::Approx;
} // namespace iotspot::test
#endif
