#pragma once
// --metrics FILE of prefetch and sink: the counters of some profiles, written atomically in
// the Prometheus text format for node_exporter's textfile collector (docs/fleet.md).

#include <string>
#include <vector>

#include "cli/context.h"

namespace iotspot::cli {

/// Writes the host counters of `profiles` to the file --metrics names, if it names one
/// (0644: the collector runs as another user; the file holds counts, nothing secret). A
/// failure is a warning: the tokens were handed out all the same.
void write_metrics_file(Context& ctx, const std::vector<std::string>& profiles);

} // namespace iotspot::cli
