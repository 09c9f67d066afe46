// `iotspot-helper serve`: the local token endpoint over HTTP on 127.0.0.1. The policy (keys,
// Host, Origin, what to answer) is core::answer_local_request, reached through the
// LocalRequestHandler that cli/serve_command.cpp passes in.
//
// Any local process can connect, without the key, so the server is built not to be stalled:
// one poll() loop reads request heads (each must be complete within 2 s and fit in 8 KiB),
// and only a complete, well-formed head is handed to a pool of workers. Idle connections and
// slowloris clients therefore cost a descriptor and a buffer, never a worker; when the
// connection limit is reached, the oldest connection still sending its head makes room.
// Poco's HTTPServer was not used: its workers read the head themselves, with a timeout per
// read, so four slow clients held all of them (docs/architecture.md).

#include "server/local_server.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "core/error.h"
#include "server/http_request.h"
#include "util/fd.h"
#include "util/result.h"

namespace iotspot::server {

namespace {

using Clock = std::chrono::steady_clock;
using core::LocalRequest;
using core::LocalResponse;

// Open at once. One limit for all: on a loopback listener every client is 127.0.0.1, so a
// limit per address would be the same limit.
constexpr std::size_t max_connections = 256;
constexpr auto head_time = std::chrono::seconds(2);  ///< to send the whole request head
constexpr auto write_time = std::chrono::seconds(2); ///< to take the whole answer
constexpr int worker_count = 16;

// A connection whose request head is still arriving.
struct Reading {
    util::Fd fd;
    std::string peer;
    std::string received;
    Clock::time_point deadline;
};

// A request with a complete head, waiting for a worker.
struct Job {
    util::Fd fd;
    std::string peer;
    LocalRequest request;
};

const char* reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

std::string json_text(std::string_view text) {
    std::string out = "\"";
    for (const char c : printable(text)) {
        if (c == '"') {
            out += "\\\"";
        } else {
            out.push_back(c == '\\' ? '/' : c);
        }
    }
    return out + "\"";
}

LocalResponse refusal(int status, const std::string& problem) {
    const char* error = status == 408 ? "timeout" : status == 503 ? "busy" : "bad_request";
    return LocalResponse{status,
                         "{\"error\":\"" + std::string(error) +
                             "\",\"message\":" + json_text(problem) + "}\n",
                         problem};
}

std::string http_answer(const LocalResponse& answer) {
    std::string text = "HTTP/1.1 " + std::to_string(answer.status) + " " +
                       reason_phrase(answer.status) +
                       "\r\nContent-Type: application/json\r\n"
                       "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                       "Content-Length: " +
                       std::to_string(answer.body.size()) + "\r\nConnection: close\r\n";
    if (answer.status == 405) {
        text += "Allow: GET, DELETE\r\n";
    }
    return text + "\r\n" + answer.body;
}

// Writes `data` to the non-blocking socket `fd`, giving up at `deadline`.
void send_within(int fd, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                return;
            }
            pollfd wait{fd, POLLOUT, 0};
            ::poll(&wait, 1, static_cast<int>(left.count()));
            continue;
        }
        return;
    }
}

std::string peer_of(const sockaddr_in& address) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    return text;
}

class Server {
public:
    Server(int listener, int signals, core::LocalRequestHandler& handler, const core::Log& log)
        : listener_(listener), signals_(signals), handler_(handler), log_(log) {}

    /// Serves until SIGTERM or SIGINT arrives on `signals`; then lets the workers finish.
    void run() {
        std::vector<std::thread> workers;
        for (int i = 0; i < worker_count; ++i) {
            workers.emplace_back([this] { work(); });
        }
        while (serve_once()) {
        }
        for (auto& connection : reading_) {
            forget(connection.fd);
        }
        reading_.clear();
        {
            std::lock_guard<std::mutex> guard(mutex_);
            stopping_ = true;
        }
        jobs_ready_.notify_all();
        for (auto& worker : workers) {
            worker.join();
        }
    }

private:
    // One round of the loop: waits for a connection, a signal, bytes or a deadline. False
    // when a stop signal arrived.
    bool serve_once() {
        std::vector<pollfd> watched{{listener_, POLLIN, 0}, {signals_, POLLIN, 0}};
        std::vector<std::list<Reading>::iterator> owners;
        auto next_deadline = Clock::time_point::max();
        for (auto it = reading_.begin(); it != reading_.end(); ++it) {
            watched.push_back({it->fd.get(), POLLIN, 0});
            owners.push_back(it);
            next_deadline = std::min(next_deadline, it->deadline);
        }
        int timeout = -1;
        if (next_deadline != Clock::time_point::max()) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now());
            timeout = static_cast<int>(std::max<std::int64_t>(0, left.count() + 1));
        }
        if (::poll(watched.data(), watched.size(), timeout) < 0) {
            return errno == EINTR;
        }
        if (watched[1].revents != 0) {
            signalfd_siginfo info{};
            [[maybe_unused]] const auto n = ::read(signals_, &info, sizeof info);
            return false;
        }
        for (std::size_t i = 0; i < owners.size(); ++i) {
            if (watched[i + 2].revents != 0 && read_head(*owners[i])) {
                reading_.erase(owners[i]);
            }
        }
        const auto now = Clock::now();
        for (auto it = reading_.begin(); it != reading_.end();) {
            if (it->deadline <= now) {
                answer_and_close(it->fd, it->peer, refusal(408, "the request head took too long"),
                                 false);
                it = reading_.erase(it);
            } else {
                ++it;
            }
        }
        if (watched[0].revents != 0) {
            accept_connections();
        }
        return true;
    }

    void accept_connections() {
        for (;;) {
            sockaddr_in address{};
            socklen_t size = sizeof address;
            util::Fd fd(::accept4(listener_, reinterpret_cast<sockaddr*>(&address), &size,
                                  SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (!fd) {
                return; // EAGAIN: none left; anything else: try again next round
            }
            const std::string peer = peer_of(address);
            if (!make_room()) {
                send_within(fd.get(), http_answer(refusal(503, "too many connections")),
                            Clock::now());
                continue;
            }
            {
                std::lock_guard<std::mutex> guard(mutex_);
                ++open_;
            }
            reading_.push_back(Reading{std::move(fd), peer, {}, Clock::now() + head_time});
        }
    }

    // Below the limit for one more connection, closing the oldest connection that is still
    // sending its head if need be. False when every open connection has sent its request.
    bool make_room() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            if (open_ < max_connections) {
                return true;
            }
        }
        if (reading_.empty()) {
            return false;
        }
        Reading& oldest = reading_.front();
        log_.note("serve: " + oldest.peer + ": closing a connection that sent no request");
        forget(oldest.fd);
        reading_.pop_front();
        return true;
    }

    // Reads what has arrived on `connection`. True when done with it: the head was complete
    // (and handed to a worker or refused), or the client closed the connection.
    bool read_head(Reading& connection) {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                forget(connection.fd);
                return true;
            }
            if (n < 0) {
                break;
            }
            connection.received.append(buffer, static_cast<std::size_t>(n));
            if (connection.received.size() > max_request_head_bytes + 1) {
                break;
            }
        }
        const auto end = request_head_end(connection.received);
        if (!end || *end > max_request_head_bytes) {
            if (connection.received.size() > max_request_head_bytes) {
                answer_and_close(connection.fd, connection.peer,
                                 refusal(431, "the request head is larger than 8 KiB"), true);
                return true;
            }
            return false;
        }
        if (*end != connection.received.size()) {
            answer_and_close(connection.fd, connection.peer,
                             refusal(400, "a request body is not accepted"), true);
            return true;
        }
        ParsedHead parsed =
            parse_request_head(std::string_view(connection.received).substr(0, *end));
        if (!parsed.request) {
            answer_and_close(connection.fd, connection.peer, refusal(parsed.status, parsed.problem),
                             true);
            return true;
        }
        {
            std::lock_guard<std::mutex> guard(mutex_);
            jobs_.push_back(
                Job{std::move(connection.fd), connection.peer, std::move(*parsed.request)});
        }
        jobs_ready_.notify_one();
        return true;
    }

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty()) {
                    return;
                }
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            LocalResponse answer;
            try {
                answer = handler_.handle(job.request);
            } catch (...) {
                answer = LocalResponse{500, "{\"error\":\"internal\"}\n", "internal error"};
            }
            const std::string path = job.request.target.substr(0, job.request.target.find('?'));
            log_.info("serve: " + job.peer + " " + printable(job.request.method) + " " +
                      printable(path) + " -> " + std::to_string(answer.status) +
                      (answer.note.empty() ? "" : " (" + printable(answer.note) + ")"));
            answer_and_close(job.fd, job.peer, answer, false);
        }
    }

    // Sends `answer` (within write_time) and closes the connection.
    void answer_and_close(util::Fd& fd, const std::string& peer, const LocalResponse& answer,
                          bool log_it) {
        if (log_it) {
            log_.info("serve: " + peer + " -> " + std::to_string(answer.status) + " (" +
                      printable(answer.note) + ")");
        }
        send_within(fd.get(), http_answer(answer), Clock::now() + write_time);
        ::shutdown(fd.get(), SHUT_WR);
        forget(fd);
    }

    // Closes `fd` and stops counting it.
    void forget(util::Fd& fd) {
        fd.reset();
        std::lock_guard<std::mutex> guard(mutex_);
        --open_;
    }

    const int listener_;
    const int signals_;
    core::LocalRequestHandler& handler_;
    const core::Log& log_;
    std::list<Reading> reading_; ///< the loop's alone; oldest first

    std::mutex mutex_; ///< guards what follows
    std::condition_variable jobs_ready_;
    std::deque<Job> jobs_;
    std::size_t open_ = 0;
    bool stopping_ = false;
};

std::string reason() {
    return std::strerror(errno);
}

// A non-blocking socket listening on 127.0.0.1:`port`, or the message that says why not (the
// port is taken).
util::Result<util::Fd> listen_on(int port) {
    util::Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener) {
        return util::Failure{"cannot serve: socket: " + reason()};
    }
    const int on = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener.get(), 128) != 0) {
        return util::Failure{"cannot listen on 127.0.0.1:" + std::to_string(port) + " (" +
                             reason() +
                             "); is another iotspot-helper serve running? Choose another port "
                             "with --port"};
    }
    return listener;
}

// SIGTERM and SIGINT blocked in this thread (and so in every thread it starts) while this
// lives, and readable from a signalfd instead.
class StopSignals {
public:
    StopSignals() {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGTERM);
        sigaddset(&signals_, SIGINT);
        pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    }
    ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    const sigset_t& set() const { return signals_; }

private:
    sigset_t signals_{};
    sigset_t previous_{};
};

} // namespace

void serve(int port, core::LocalRequestHandler& handler, const core::Log& log) {
    const auto listener = listen_on(port);
    if (!listener) {
        throw core::Error(core::Exit::network, listener.error());
    }
    const StopSignals stop;
    const util::Fd signals(::signalfd(-1, &stop.set(), SFD_CLOEXEC));
    if (!signals) {
        throw core::Error(core::Exit::network, "cannot serve: signalfd: " + reason());
    }
    log.info("serving tokens on http://127.0.0.1:" + std::to_string(port) +
             "/v1/token (stop with Ctrl-C)");
    Server(listener.value().get(), signals.get(), handler, log).run();
    log.info("stopped");
}

} // namespace iotspot::server
