#pragma once
// Standard input as a std::istream, without including <iostream>: with GCC 12 every
// translation unit that includes it runs std::ios_base::Init at start-up, which costs about
// half a millisecond on every run, cache hits included (docs/performance.md).

#include <istream>

namespace iotspot::cli {

/// A stream reading file descriptor 0, unbuffered beyond one 4 KiB block.
std::istream& standard_input();

} // namespace iotspot::cli
