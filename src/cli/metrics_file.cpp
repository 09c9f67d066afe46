#include "cli/metrics_file.h"

#include <map>
#include <utility>

#include "core/counters.h"
#include "core/error.h"
#include "store/files.h"

namespace iotspot::cli {

void write_metrics_file(Context& ctx, const std::vector<std::string>& profiles) {
    const auto file = ctx.invocation.value("metrics");
    if (!file) {
        return;
    }
    try {
        std::vector<std::pair<std::string, std::map<std::string, std::int64_t>>> counts;
        for (const auto& name : profiles) {
            counts.emplace_back(name, ctx.service.host_counts(name));
        }
        store::write_file_atomic(*file, core::render_metrics(counts), "metrics file", 0644);
    } catch (const core::Error& error) {
        ctx.log.warning(std::string(error.what()) + "; the metrics file was not written");
    }
}

} // namespace iotspot::cli
