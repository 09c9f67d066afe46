#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "catch.h"
#include "core/error.h"
#include "core/shared_cache.h"
#include "service/shared_tier.h"
#include "temp_dir.h"

using namespace iotspot::core;
using iotspot::test::TempDir;

namespace {

// The binding a tier on secret "s3cret" uses (the secret's identifier names its entries).
const SharedBinding binding{"client-1", "https://auth.example/oauth2/token", "iotspot/openapi",
                            shared_secret_id("s3cret", "client-1")};
constexpr std::int64_t now = 1'800'000'000;

SharedToken sample_token() {
    return SharedToken{"eyJhbGciOi.payload.signature", now - 10, now + 3590};
}

// A shared cache in memory with Redis's semantics for the four commands (expiry by a
// clock the test moves), recording the commands; `down` makes every command fail.
class MemoryCache : public SharedCacheClient {
public:
    std::map<std::string, std::pair<std::string, double>> entries; // key -> value, expiry
    std::vector<std::string> commands;
    std::vector<double> limits; // each limit_time(), in seconds
    double clock = 0;
    bool down = false;

    void limit_time(double seconds) override { limits.push_back(seconds); }

    SharedReply get(const std::string& key) override {
        commands.push_back("GET " + key);
        if (down) {
            return failed();
        }
        SharedReply reply;
        if (const auto it = live(key); it != entries.end()) {
            reply.value = it->second.first;
        }
        return reply;
    }
    SharedReply set(const std::string& key, const std::string& value, std::int64_t ttl_ms,
                    bool only_if_absent) override {
        commands.push_back(std::string(only_if_absent ? "SETNX " : "SET ") + key);
        if (down) {
            return failed();
        }
        SharedReply reply;
        if (!only_if_absent || live(key) == entries.end()) {
            entries[key] = {value, clock + static_cast<double>(ttl_ms) / 1000};
            reply.value = "OK";
        }
        return reply;
    }
    SharedReply delete_if_equal(const std::string& key, const std::string& expected) override {
        commands.push_back("DELIF " + key);
        if (down) {
            return failed();
        }
        SharedReply reply;
        if (const auto it = live(key); it != entries.end() && it->second.first == expected) {
            entries.erase(it);
            reply.value = "1";
        }
        return reply;
    }
    SharedReply ping() override { return down ? failed() : SharedReply{}; }
    SharedReply increment(const std::string& key, std::int64_t ttl_ms) override {
        commands.push_back("INCR " + key);
        if (down) {
            return failed();
        }
        const auto it = live(key);
        const long next = it == entries.end() ? 1 : std::stol(it->second.first) + 1;
        entries[key] = {std::to_string(next), clock + static_cast<double>(ttl_ms) / 1000};
        SharedReply reply;
        reply.value = std::to_string(next);
        return reply;
    }
    SharedCounts read_counts(const std::vector<std::string>& keys) override {
        commands.push_back("MGET " + std::to_string(keys.size()));
        SharedCounts counts;
        if (down) {
            counts.failure = SharedFailure::unreachable;
            counts.message = "Redis at test:6379 refused the connection";
            return counts;
        }
        for (const auto& key : keys) {
            const auto it = live(key);
            counts.values.push_back(it == entries.end() ? 0 : std::stol(it->second.first));
        }
        return counts;
    }

private:
    std::map<std::string, std::pair<std::string, double>>::iterator live(const std::string& key) {
        auto it = entries.find(key);
        if (it != entries.end() && it->second.second <= clock) {
            entries.erase(it);
            it = entries.end();
        }
        return it;
    }
    static SharedReply failed() {
        SharedReply reply;
        reply.failure = SharedFailure::unreachable;
        reply.message = "Redis at test:6379 refused the connection";
        return reply;
    }
};

struct Fixture {
    MemoryCache* cache = nullptr;
    std::vector<std::string> lines;
    Log log{true, [this](std::string_view line) { lines.emplace_back(line); }};
    double slept = 0;
    std::function<void()> on_sleep = [] {};

    std::unique_ptr<iotspot::service::SharedTier> tier(MemoryCache& shared,
                                                       const std::string& secret = "s3cret") {
        cache = &shared;
        iotspot::service::SharedTierDeps deps{&log, [] { return now; },
                                              [this] { return cache->clock; },
                                              [this](double seconds) {
                                                  slept += seconds;
                                                  cache->clock += seconds;
                                                  on_sleep();
                                              },
                                              [] { return 0.5; }};
        // The tier owns its client; the test keeps looking at the same memory.
        struct Borrowed : SharedCacheClient {
            MemoryCache& c;
            explicit Borrowed(MemoryCache& m) : c(m) {}
            void limit_time(double seconds) override { c.limit_time(seconds); }
            SharedReply get(const std::string& k) override { return c.get(k); }
            SharedReply set(const std::string& k, const std::string& v, std::int64_t t,
                            bool nx) override {
                return c.set(k, v, t, nx);
            }
            SharedReply delete_if_equal(const std::string& k, const std::string& e) override {
                return c.delete_if_equal(k, e);
            }
            SharedReply ping() override { return c.ping(); }
            SharedReply increment(const std::string& k, std::int64_t t) override {
                return c.increment(k, t);
            }
            SharedCounts read_counts(const std::vector<std::string>& k) override {
                return c.read_counts(k);
            }
        };
        return std::make_unique<iotspot::service::SharedTier>(
            std::move(deps), std::make_unique<Borrowed>(shared), "Redis at test:6379", binding,
            secret);
    }
    int warnings() const {
        int n = 0;
        for (const auto& line : lines) {
            n += line.rfind("warning: ", 0) == 0;
        }
        return n;
    }
};

const auto always_fresh = [](const TokenTimes&) { return true; };

} // namespace

TEST_CASE("shared cache: URLs with and without user, port, database and TLS") {
    const auto plain = parse_shared_cache_url("redis://cache.internal");
    CHECK_FALSE(plain.tls);
    CHECK(plain.host == "cache.internal");
    CHECK(plain.port == 6379);
    CHECK(plain.db == 0);
    CHECK(plain.user.empty());
    CHECK(plain.text() == "redis://cache.internal:6379");

    const auto full = parse_shared_cache_url("rediss://helper@10.0.0.7:6380/3");
    CHECK(full.tls);
    CHECK(full.user == "helper");
    CHECK(full.where() == "10.0.0.7:6380");
    CHECK(full.db == 3);
    CHECK(full.text() == "rediss://helper@10.0.0.7:6380/3");

    const auto v6 = parse_shared_cache_url("redis://[::1]:7000");
    CHECK(v6.host == "::1");
    CHECK(v6.where() == "[::1]:7000");
}

namespace {

// The message a refused shared_cache URL gets (empty when it is accepted): always a usage
// error, never echoing the password "p4ss" the tests put in.
std::string refused(const std::string& url) {
    try {
        parse_shared_cache_url(url);
    } catch (const Error& error) {
        CHECK(error.code() == Exit::usage);
        CHECK(std::string(error.what()).find("p4ss") == std::string::npos);
        return std::string(error.what());
    }
    return std::string();
}

} // namespace

TEST_CASE("shared cache: a password in the URL is refused, and so are malformed URLs") {
    CHECK(refused("redis://helper:p4ss@host:6379").find("must not hold a password") !=
          std::string::npos);
    CHECK(refused("redis://:p4ss@host").find("must not hold a password") != std::string::npos);
    CHECK_FALSE(refused("http://host:6379").empty());
    CHECK_FALSE(refused("redis://").empty());
    CHECK_FALSE(refused("redis://host:0").empty());
    CHECK_FALSE(refused("redis://host:65536").empty());
    CHECK_FALSE(refused("redis://host:6379/x").empty());
    CHECK_FALSE(refused("redis://host:6379?password=p4ss").empty());
    CHECK_FALSE(refused("redis://ho st").empty());
}

TEST_CASE("shared cache: the timeout defaults to 250 ms and any other value is a usage error") {
    using Vars = std::map<std::string, std::string>;
    CHECK(shared_cache_timeout_ms(Environment(Vars{})) == 250);
    CHECK(shared_cache_timeout_ms(Environment(Vars{{"IOTSPOT_REDIS_TIMEOUT_MS", "80"}})) == 80);
    CHECK(shared_cache_timeout_ms(Environment(Vars{{"IOTSPOT_REDIS_TIMEOUT_MS", "10"}})) == 10);
    CHECK(shared_cache_timeout_ms(Environment(Vars{{"IOTSPOT_REDIS_TIMEOUT_MS", "10000"}})) ==
          10000);
    for (const char* bad : {"0", "9", "10001", "x", "80ms"}) {
        INFO(bad);
        try {
            shared_cache_timeout_ms(Environment(Vars{{"IOTSPOT_REDIS_TIMEOUT_MS", bad}}));
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == Exit::usage);
            CHECK_THAT(error.what(), iotspot::test::Contains("10 to 10000"));
        }
    }
}

// The part of a key Redis Cluster hashes for its slot: the text inside the first {...}, when
// that is not empty (the Cluster specification's hash tags).
static std::string hash_tag(const std::string& key) {
    const auto open = key.find('{');
    const auto close = open == std::string::npos ? open : key.find('}', open + 1);
    return close == std::string::npos || close == open + 1 ? key
                                                           : key.substr(open + 1, close - open - 1);
}

TEST_CASE("shared cache: key names are a hash of client id, token URL and scope") {
    const auto key = shared_token_key(binding);
    CHECK(key.rfind("iotspot-helper:v2:{", 0) == 0);
    CHECK(key.size() == std::string("iotspot-helper:v2:{}:token").size() + 32);
    CHECK(key.substr(key.size() - 7) == "}:token");
    CHECK(key.find("client-1") == std::string::npos);
    CHECK(key.find("auth.example") == std::string::npos);
    CHECK(shared_lock_key(binding).rfind("iotspot-helper:v2:{", 0) == 0);
    CHECK(shared_lock_key(binding).substr(shared_lock_key(binding).size() - 6) == "}:lock");
    for (const auto& other :
         {SharedBinding{"client-2", binding.token_url, binding.scope, binding.secret_id},
          SharedBinding{binding.client_id, "https://x", binding.scope, binding.secret_id},
          SharedBinding{binding.client_id, binding.token_url, "other", binding.secret_id},
          SharedBinding{binding.client_id, binding.token_url, binding.scope,
                        shared_secret_id("the next secret", binding.client_id)}}) {
        CHECK(shared_token_key(other) != key);
        CHECK(hash_tag(shared_token_key(other)) != hash_tag(key));
    }
}

TEST_CASE("shared cache: a secret's identifier is 128 bits, one-way, and apart from the key") {
    const auto id = shared_secret_id("s3cret", "client-1");
    CHECK(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(id == shared_secret_id("s3cret", "client-1"));
    CHECK(id != shared_secret_id("s3cret", "client-2"));
    CHECK(id != shared_secret_id("s3cret2", "client-1"));
    // Not a prefix of the sealing key: a context of its own.
    const auto key = SharedKey::derive("s3cret", "client-1");
    char hex[3];
    std::string key_hex;
    for (std::size_t i = 0; i < 16; ++i) {
        std::snprintf(hex, sizeof hex, "%02x", key.data()[i]);
        key_hex += hex;
    }
    CHECK(id != key_hex);
}

TEST_CASE("shared cache: fleet counter keys name the client and the day, not the secret") {
    const auto key = shared_counter_key(binding, "2026-12-06", "requests_issued");
    CHECK(key.rfind("iotspot-helper:v2:{", 0) == 0);
    CHECK(key.find("}:count:") != std::string::npos);
    CHECK(key.find(":2026-12-06:requests_issued") != std::string::npos);
    CHECK(key.find("client-1") == std::string::npos);
    SharedBinding next = binding;
    next.secret_id = shared_secret_id("the next secret", binding.client_id);
    CHECK(shared_counter_key(next, "2026-12-06", "requests_issued") == key);
}

TEST_CASE("shared cache: a token and its lock hash to one Cluster slot") {
    const auto tag = hash_tag(shared_token_key(binding));
    CHECK(tag.size() == 32);
    CHECK(tag == hash_tag(shared_lock_key(binding)));
    CHECK(tag.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("shared cache: Sentinel URLs name the Sentinels, the primary and the database") {
    const auto one = parse_shared_cache_url("redis+sentinel://10.0.0.5/mymaster");
    CHECK_FALSE(one.tls);
    CHECK(one.master == "mymaster");
    REQUIRE(one.sentinels.size() == 1);
    CHECK(one.sentinels[0].where() == "10.0.0.5:26379");
    CHECK(one.db == 0);
    CHECK(one.text() == "redis+sentinel://10.0.0.5:26379/mymaster");
    CHECK(one.where() == "mymaster (Sentinel at 10.0.0.5:26379)");

    const auto full = parse_shared_cache_url(
        "rediss+sentinel://helper@s1.internal:26380,[fd00::7],10.0.0.9:5000/cache-primary.1/2");
    CHECK(full.tls);
    CHECK(full.user == "helper");
    CHECK(full.master == "cache-primary.1");
    CHECK(full.db == 2);
    REQUIRE(full.sentinels.size() == 3);
    CHECK(full.sentinels[0] == SharedCacheNode{"s1.internal", 26380});
    CHECK(full.sentinels[1] == SharedCacheNode{"fd00::7", 26379});
    CHECK(full.sentinels[2] == SharedCacheNode{"10.0.0.9", 5000});
    CHECK(full.text() == "rediss+sentinel://helper@s1.internal:26380,[fd00::7]:26379,10.0.0.9:5000/"
                         "cache-primary.1/2");
    CHECK(parse_shared_cache_url(full.text()).text() == full.text());

    const auto plain = parse_shared_cache_url("redis://cache.internal");
    CHECK(plain.master.empty());
    CHECK(plain.sentinels.empty());
}

TEST_CASE("shared cache: malformed Sentinel URLs are refused") {
    CHECK(refused("redis+sentinel://helper:p4ss@s1/mymaster").find("must not hold a password") !=
          std::string::npos);
    CHECK(refused("redis+sentinel://s1:26379").find("primary's name") != std::string::npos);
    CHECK(refused("redis+sentinel://s1:26379/").find("primary's name") != std::string::npos);
    CHECK(refused("redis+sentinel://s1/my master").find("space") != std::string::npos);
    CHECK(refused("redis+sentinel://s1/m$ster").find("primary's name") != std::string::npos);
    CHECK_FALSE(refused("redis+sentinel:///mymaster").empty());
    CHECK_FALSE(refused("redis+sentinel://s1,,s2/mymaster").empty());
    CHECK_FALSE(refused("redis+sentinel://s1:0/mymaster").empty());
    CHECK_FALSE(refused("redis+sentinel://s1/mymaster/x").empty());
    CHECK_FALSE(refused("redis+sentinel://s1/mymaster/1/2").empty());
    CHECK_FALSE(refused("sentinel://s1/mymaster").empty());
    std::string many = "redis+sentinel://";
    for (int i = 0; i < 17; ++i) {
        many += (i == 0 ? "" : ",") + std::string("s") + std::to_string(i);
    }
    CHECK(refused(many + "/mymaster").find("more than 16 Sentinels") != std::string::npos);
}

TEST_CASE("shared cache: a sealed token opens with the same secret and binding only") {
    const auto key = SharedKey::derive("s3cret", binding.client_id);
    const auto value = seal_shared_token(key, binding, sample_token());
    CHECK(value.find("payload") == std::string::npos);
    CHECK(value.find("s3cret") == std::string::npos);
    CHECK(value.rfind("v1.", 0) == 0);

    SharedToken opened;
    REQUIRE(open_shared_token(key, binding, value, now, opened) == SharedOpen::ok);
    CHECK(opened.access_token == sample_token().access_token);
    CHECK(opened.expires_at == now + 3590);

    const auto other_secret = SharedKey::derive("another", binding.client_id);
    CHECK(open_shared_token(other_secret, binding, value, now, opened) == SharedOpen::foreign);
    const auto other_client = SharedKey::derive("s3cret", "client-2");
    CHECK(open_shared_token(other_client, binding, value, now, opened) == SharedOpen::foreign);
    SharedBinding other_scope = binding;
    other_scope.scope = "other";
    CHECK(open_shared_token(key, other_scope, value, now, opened) == SharedOpen::foreign);
}

TEST_CASE("shared cache: tampered, expired and malformed values do not open") {
    const auto key = SharedKey::derive("s3cret", binding.client_id);
    const auto value = seal_shared_token(key, binding, sample_token());
    SharedToken opened;
    auto flipped = value;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK(open_shared_token(key, binding, flipped, now, opened) == SharedOpen::foreign);
    // A longer life written in clear does not match the sealed one.
    const auto later = "v1." + std::to_string(now - 10) + "." + std::to_string(now + 99999) +
                       value.substr(value.rfind('.'));
    CHECK(open_shared_token(key, binding, later, now, opened) == SharedOpen::foreign);
    CHECK(open_shared_token(key, binding, value, now + 3590, opened) == SharedOpen::expired);
    CHECK(open_shared_token(key, binding, "", now, opened) == SharedOpen::malformed);
    CHECK(open_shared_token(key, binding, "v1.1.2.zz", now, opened) == SharedOpen::malformed);
    CHECK(open_shared_token(key, binding, "v2.1.2.00", now, opened) == SharedOpen::malformed);
}

TEST_CASE("shared tier: nothing shared -> the lock is taken, the token published, the lock "
          "released") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    CHECK(shared.entries.count(shared_lock_key(binding)) == 1);
    tier->publish(sample_token());
    CHECK(shared.entries.count(shared_lock_key(binding)) == 0);
    const auto stored = shared.entries.at(shared_token_key(binding));
    CHECK(stored.second == iotspot::test::Approx(3590.0)); // PX: the token's remaining life

    auto second = f.tier(shared);
    const auto token = second->obtain(always_fresh, 20, 20.0);
    REQUIRE(token);
    CHECK(token->access_token == sample_token().access_token);
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: a waiter polls while another host holds the lock, then takes its "
          "token") {
    MemoryCache shared;
    Fixture f;
    auto holder = f.tier(shared);
    CHECK_FALSE(holder->obtain(always_fresh, 20, 20.0));

    int sleeps = 0;
    f.on_sleep = [&] {
        if (++sleeps == 3) {
            holder->publish(sample_token());
        }
    };
    auto waiter = f.tier(shared);
    const auto token = waiter->obtain(always_fresh, 20, 20.0);
    REQUIRE(token);
    CHECK(token->access_token == sample_token().access_token);
    CHECK(sleeps == 3);
    CHECK(f.slept < 1.0); // backoff from 25 ms, not a fixed second
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: a holder that never publishes delays others by at most the budget") {
    MemoryCache shared;
    Fixture f;
    // A holder killed while holding the lock: it stays until its PX (3 s) runs out.
    shared.set(shared_lock_key(binding), "a killed host's value", 3000, true);
    auto waiter = f.tier(shared);
    CHECK_FALSE(waiter->obtain(always_fresh, 3, 4.0)); // took the lock once it expired
    CHECK(f.slept <= 4.0);
    CHECK(f.slept >= 2.9);
    CHECK(shared.entries.at(shared_lock_key(binding)).first != "a killed host's value");
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: commands end within the wait, publishing within the deadline") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    tier->set_deadline(10.0);
    CHECK_FALSE(tier->obtain(always_fresh, 10, 7.5));
    REQUIRE(shared.limits.size() == 1);
    CHECK(shared.limits[0] == iotspot::test::Approx(7.5)); // the wait, not the deadline
    shared.clock = 9.0;                                    // the fetch took 9 s
    tier->publish(sample_token());
    // SET, then the lock's release: each within what is left of the deadline.
    REQUIRE(shared.limits.size() == 3);
    CHECK(shared.limits[1] == iotspot::test::Approx(1.0));
    CHECK(shared.limits[2] == iotspot::test::Approx(1.0));
    CHECK(shared.entries.count(shared_lock_key(binding)) == 0); // released in time
}

TEST_CASE("shared tier: past the deadline no command is sent, and nothing is warned") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    tier->set_deadline(5.0);
    CHECK_FALSE(tier->obtain(always_fresh, 5, 4.0));
    const auto sent = shared.commands.size();
    shared.clock = 6.0; // the fetch ran past the deadline
    tier->publish(sample_token());
    CHECK(shared.commands.size() == sent); // neither SET nor the lock's release
    CHECK(shared.entries.count(shared_token_key(binding)) == 0);

    auto late = f.tier(shared);
    late->set_deadline(5.0);
    CHECK_FALSE(late->obtain(always_fresh, 5, 0.0));
    CHECK(shared.commands.size() == sent);
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: a stuck lock past the budget -> a warning, and the caller fetches") {
    MemoryCache shared;
    Fixture f;
    shared.set(shared_lock_key(binding), "another host", 60000, true);
    auto waiter = f.tier(shared);
    CHECK_FALSE(waiter->obtain(always_fresh, 2, 3.0));
    CHECK(f.slept <= 3.0);
    REQUIRE(f.warnings() == 1);
    CHECK(f.lines.back().find("fetching the token directly") != std::string::npos);
}

TEST_CASE("shared tier: a lock released by its holder only") {
    MemoryCache shared;
    Fixture f;
    auto first = f.tier(shared);
    CHECK_FALSE(first->obtain(always_fresh, 1, 1.0));
    shared.clock += 2; // the lock expired; another host took it
    auto second = f.tier(shared);
    CHECK_FALSE(second->obtain(always_fresh, 20, 20.0));
    first.reset(); // the first holder gives up: it must not drop the second's lock
    CHECK(shared.entries.count(shared_lock_key(binding)) == 1);
}

TEST_CASE("shared tier: a token not fresh enough for the caller is not taken") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    tier->publish(sample_token());
    auto picky = f.tier(shared);
    CHECK_FALSE(
        picky->obtain([](const TokenTimes& t) { return t.expires_at - now > 4000; }, 20, 20.0));
}

TEST_CASE("shared tier: hosts on the two secrets of a rotation keep entries of their own") {
    MemoryCache shared;
    Fixture f;
    auto old_secret = f.tier(shared, "another secret");
    CHECK_FALSE(old_secret->obtain(always_fresh, 20, 20.0));
    old_secret->publish(sample_token());
    auto new_secret = f.tier(shared);
    CHECK_FALSE(new_secret->obtain(always_fresh, 20, 20.0));
    new_secret->publish(SharedToken{"eyJuZXc.payload.signature", now - 5, now + 3595});
    // Neither overwrote the other: each group finds its own token, and nobody is warned.
    CHECK(f.tier(shared, "another secret")->obtain(always_fresh, 20, 20.0)->access_token ==
          sample_token().access_token);
    CHECK(f.tier(shared)->obtain(always_fresh, 20, 20.0)->access_token ==
          "eyJuZXc.payload.signature");
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: a value under this secret's name sealed with another key is ignored "
          "with a warning") {
    MemoryCache shared;
    Fixture f;
    shared.entries[shared_token_key(binding)] = {
        seal_shared_token(SharedKey::derive("another secret", binding.client_id), binding,
                          sample_token()),
        1e9};
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    REQUIRE(f.warnings() == 1);
    bool named = false;
    for (const auto& line : f.lines) {
        named = named || line.find("does not open") != std::string::npos;
        CHECK(line.find("payload") == std::string::npos);
    }
    CHECK(named);
}

TEST_CASE("shared tier: a failover while another host holds the lock -> keep waiting, no "
          "warning, its token") {
    MemoryCache shared;
    Fixture f;
    auto holder = f.tier(shared);
    CHECK_FALSE(holder->obtain(always_fresh, 20, 20.0));

    // Redis goes away for three polls (a primary failing over), then the holder publishes.
    int sleeps = 0;
    f.on_sleep = [&] {
        ++sleeps;
        shared.down = sleeps >= 1 && sleeps <= 3;
        if (sleeps == 4) {
            holder->publish(sample_token());
        }
    };
    auto waiter = f.tier(shared);
    const auto token = waiter->obtain(always_fresh, 20, 20.0);
    REQUIRE(token);
    CHECK(token->access_token == sample_token().access_token);
    CHECK_FALSE(waiter->failed());
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: Redis gone for the whole wait -> one warning, then the caller fetches") {
    MemoryCache shared;
    Fixture f;
    shared.set(shared_lock_key(binding), "another host", 60000, true);
    f.on_sleep = [&] { shared.down = true; };
    auto waiter = f.tier(shared);
    CHECK_FALSE(waiter->obtain(always_fresh, 3, 4.0));
    CHECK(f.slept <= 4.0);
    CHECK(waiter->failed());
    REQUIRE(f.warnings() == 1);
    CHECK(f.lines.back().find("Redis at test:6379 refused the connection") != std::string::npos);
    CHECK(f.lines.back().find("fetching the token directly") != std::string::npos);
}

TEST_CASE("shared tier: Redis down -> one warning, then no more commands") {
    MemoryCache shared;
    shared.down = true;
    Fixture f;
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    tier->publish(sample_token());
    CHECK(f.warnings() == 1);
    CHECK(f.lines[0].find("Redis at test:6379") != std::string::npos);
    CHECK(f.lines[0].find("fetching the token directly") != std::string::npos);
    CHECK(shared.commands.size() == 1);
    CHECK(tier->failed());
}

TEST_CASE("shared tier: fleet counts add up per day over the window, and Redis down is no "
          "failure") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    tier->count("requests_issued");
    tier->count("requests_issued");
    tier->count("shared_hits");
    std::string problem;
    const auto counts = iotspot::service::read_fleet_counts(
        shared, binding, {"requests_issued", "requests_refused", "shared_hits"}, now, problem);
    REQUIRE(counts);
    CHECK(*counts == std::vector<std::int64_t>{2, 0, 1});
    CHECK(shared.entries
              .at(shared_counter_key(binding, iotspot::service::utc_day(now), "requests_issued"))
              .second == iotspot::test::Approx(35.0 * 86400));
    shared.down = true;
    tier->count("requests_issued");
    CHECK(f.warnings() == 0);
    CHECK_FALSE(
        iotspot::service::read_fleet_counts(shared, binding, {"shared_hits"}, now, problem));
    CHECK(problem.find("Redis at test:6379") != std::string::npos);
}

TEST_CASE("shared tier: the origin note matches only the token it was written for") {
    TempDir dir;
    const TokenTimes times{now, now + 3600};
    CHECK(iotspot::service::read_origin(dir.path(), "default", times) == TokenOrigin::unknown);
    iotspot::service::record_origin(dir.path(), "default", TokenOrigin::shared_cache, times);
    CHECK(iotspot::service::read_origin(dir.path(), "default", times) == TokenOrigin::shared_cache);
    CHECK(iotspot::service::read_origin(dir.path(), "default", TokenTimes{now, now + 7200}) ==
          TokenOrigin::unknown);
    CHECK(iotspot::service::read_origin(dir.path(), "other", times) == TokenOrigin::unknown);
}

TEST_CASE("shared tier: a refused token is dropped while the cache still holds it") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    tier->publish(sample_token());
    f.tier(shared)->drop(sample_token().access_token);
    CHECK(shared.entries.count(shared_token_key(binding)) == 0);
    CHECK(shared.commands.back() == "DELIF " + shared_token_key(binding));
    CHECK(f.warnings() == 0);
}

TEST_CASE("shared tier: a newer token, or one another client sealed, is kept") {
    MemoryCache shared;
    Fixture f;
    auto tier = f.tier(shared);
    CHECK_FALSE(tier->obtain(always_fresh, 20, 20.0));
    tier->publish(SharedToken{"newer.token.published", now - 1, now + 3599});
    const auto published = shared.entries.at(shared_token_key(binding)).first;
    f.tier(shared)->drop(sample_token().access_token);
    f.tier(shared, "another secret")->drop("newer.token.published");
    CHECK(shared.entries.at(shared_token_key(binding)).first == published);
    for (const auto& command : shared.commands) {
        CHECK(command.rfind("DELIF " + shared_token_key(binding), 0) != 0);
    }
}

TEST_CASE("shared tier: Redis down while dropping -> one warning, never an error") {
    MemoryCache shared;
    shared.down = true;
    Fixture f;
    auto tier = f.tier(shared);
    tier->drop(sample_token().access_token);
    tier->drop(sample_token().access_token);
    CHECK(f.warnings() == 1);
    CHECK(f.lines[0].find("Redis at test:6379") != std::string::npos);
    CHECK(f.lines[0].find("refused token may stay") != std::string::npos);
    CHECK(shared.commands.size() == 1);
    CHECK(tier->failed());
}
