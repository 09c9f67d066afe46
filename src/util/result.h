#pragma once
// An expected-style result for the low layers: a value, or what went wrong (by default a
// message). Functions that call the system return one; the layer above decides what the
// failure means for the user and throws core::Error with the exit code. Nothing here throws.
//
//     util::Result<util::Fd> open_it(const std::string& path) {
//         util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
//         if (!fd) {
//             return util::Failure{"cannot open " + path};
//         }
//         return fd;
//     }

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace iotspot::util {

/// The failure side of a Result: `return util::Failure{message};`.
template <typename E> struct Failure {
    explicit Failure(E what) : error(std::move(what)) {}
    E error;
};
Failure(const char*)->Failure<std::string>;

/// A T, or an E saying why there is none.
template <typename T, typename E = std::string> class Result {
public:
    // Implicit, so that a function returns its value or a Failure alike.
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    template <typename F>
    Result(Failure<F> failure) : state_(std::in_place_index<1>, E(std::move(failure.error))) {}

    /// True when this holds a value.
    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    /// The value; only when ok().
    T& value() & { return *checked<0>(); }
    const T& value() const& { return *checked<0>(); }
    T&& value() && { return std::move(*checked<0>()); }

    /// The failure; only when !ok().
    const E& error() const { return *checked<1>(); }

private:
    template <std::size_t index> auto* checked() {
        auto* held = std::get_if<index>(&state_);
        assert(held != nullptr);
        return held;
    }
    template <std::size_t index> const auto* checked() const {
        const auto* held = std::get_if<index>(&state_);
        assert(held != nullptr);
        return held;
    }

    std::variant<T, E> state_;
};

/// Success without a value, or an E.
template <typename E> class Result<void, E> {
public:
    Result() = default;
    template <typename F> Result(Failure<F> failure) : error_(E(std::move(failure.error))) {}

    bool ok() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }

    /// The failure; only when !ok().
    const E& error() const {
        assert(error_.has_value());
        return *error_;
    }

private:
    std::optional<E> error_;
};

} // namespace iotspot::util
