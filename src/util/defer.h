#pragma once
// A scope guard: runs an action when the scope ends, however it ends (return or exception),
// unless dismissed first. For clean-up that has no owning type of its own:
//
//     util::Defer remove_temporary([&] { ::unlink(temp.c_str()); });
//     ... // may throw
//     remove_temporary.dismiss(); // kept: it was renamed into place

#include <utility>

namespace iotspot::util {

template <typename Action> class Defer {
public:
    explicit Defer(Action action) : action_(std::move(action)) {}
    Defer(const Defer&) = delete;
    Defer& operator=(const Defer&) = delete;
    ~Defer() {
        if (armed_) {
            action_();
        }
    }

    /// The action will not run.
    void dismiss() noexcept { armed_ = false; }

private:
    Action action_;
    bool armed_ = true;
};

} // namespace iotspot::util
