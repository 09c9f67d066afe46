#include "cli/standard_input.h"

#include <cerrno>
#include <streambuf>
#include <unistd.h>

namespace iotspot::cli {

namespace {

class FdReader : public std::streambuf {
public:
    explicit FdReader(int fd) : fd_(fd) {}

protected:
    int_type underflow() override {
        ssize_t n = 0;
        do {
            n = ::read(fd_, buffer_, sizeof buffer_);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            return traits_type::eof();
        }
        setg(buffer_, buffer_, buffer_ + n);
        return traits_type::to_int_type(buffer_[0]);
    }

private:
    int fd_;
    char buffer_[4096];
};

} // namespace

std::istream& standard_input() {
    static FdReader reader(0);
    static std::istream stream(&reader);
    return stream;
}

} // namespace iotspot::cli
