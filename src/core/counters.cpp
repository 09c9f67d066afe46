#include "core/counters.h"

#include <cstdio>

namespace iotspot::core {

namespace {

std::int64_t count_of(const std::map<std::string, std::int64_t>& counts, const char* name) {
    const auto found = counts.find(name);
    return found == counts.end() ? 0 : found->second;
}

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label_value(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

struct Family {
    const char* name;
    const char* help;
};

constexpr Family requests{"iotspot_helper_token_requests_total",
                          "Token requests this host made, by outcome (issued, refused, failed)."};
constexpr Family simple[] = {
    {"iotspot_helper_shared_hits_total",
     "Tokens this host took from the shared cache instead of requesting one."},
    {"iotspot_helper_stale_uses_total",
     "Cached tokens handed out after a refresh failed (stale-while-error)."},
    {"iotspot_helper_lock_waits_total",
     "Refreshes that waited for another process's or host's refresh lock."},
};
constexpr const char* simple_counters[] = {counter::shared_hits, counter::stale_uses,
                                           counter::lock_waits};

void header(std::string& out, const Family& family) {
    out += "# HELP " + std::string(family.name) + " " + family.help + "\n";
    out += "# TYPE " + std::string(family.name) + " counter\n";
}

} // namespace

std::vector<std::string> fleet_counter_names() {
    return {counter::issued, counter::refused, counter::failed, counter::shared_hits};
}

CounterSummary summarize(const std::map<std::string, std::int64_t>& counts, double price) {
    CounterSummary s;
    s.issued = count_of(counts, counter::issued);
    s.refused = count_of(counts, counter::refused);
    s.failed = count_of(counts, counter::failed);
    s.token_requests = s.issued + s.refused + s.failed;
    s.failures = s.refused + s.failed;
    s.shared_hits = count_of(counts, counter::shared_hits);
    s.stale_uses = count_of(counts, counter::stale_uses);
    s.lock_waits = count_of(counts, counter::lock_waits);
    s.requests_avoided = s.shared_hits;
    s.estimated_cost = static_cast<double>(s.token_requests) * price / 1000.0;
    return s;
}

std::string summary_json(const CounterSummary& s) {
    char cost[64];
    std::snprintf(cost, sizeof cost, "%.4f", s.estimated_cost);
    const auto field = [](const char* name, std::int64_t value) {
        return "\"" + std::string(name) + "\":" + std::to_string(value) + ",";
    };
    return "{" + field("token_requests", s.token_requests) + field("issued", s.issued) +
           field("refused", s.refused) + field("failed", s.failed) + field("failures", s.failures) +
           field("shared_hits", s.shared_hits) + field("stale_uses", s.stale_uses) +
           field("lock_waits", s.lock_waits) + field("requests_avoided", s.requests_avoided) +
           "\"estimated_cost_usd\":" + cost + "}";
}

std::string render_metrics(
    const std::vector<std::pair<std::string, std::map<std::string, std::int64_t>>>& profiles) {
    std::string out;
    header(out, requests);
    for (const auto& [profile, counts] : profiles) {
        const std::pair<const char*, const char*> outcomes[] = {{"issued", counter::issued},
                                                                {"refused", counter::refused},
                                                                {"failed", counter::failed}};
        for (const auto& [outcome, name] : outcomes) {
            out += std::string(requests.name) + "{profile=\"" + label_value(profile) +
                   "\",outcome=\"" + outcome + "\"} " + std::to_string(count_of(counts, name)) +
                   "\n";
        }
    }
    for (std::size_t i = 0; i < sizeof simple / sizeof simple[0]; ++i) {
        header(out, simple[i]);
        for (const auto& [profile, counts] : profiles) {
            out += std::string(simple[i].name) + "{profile=\"" + label_value(profile) + "\"} " +
                   std::to_string(count_of(counts, simple_counters[i])) + "\n";
        }
    }
    return out;
}

} // namespace iotspot::core
