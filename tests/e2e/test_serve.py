"""End-to-end tests of `iotspot-helper serve`, the local token endpoint for tools that
cannot start a process: the key, Host and Origin rules, the shared cache, SIGTERM."""

import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
import unittest

from support.harness import HelperTestCase


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()
        self.port = free_port()
        self.key = self.run_helper("serve", "--print-key", check=True).stdout.strip()
        self.proc = subprocess.Popen([self.bin, "serve", "--port", str(self.port)], env=self.env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=self.home)
        self.addCleanup(self.stop)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.fail("serve did not start listening")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def request(self, path="/v1/token", headers=None, method="GET", key=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        all_headers = {"X-Iotspot-Key": self.key} if key else {}
        all_headers.update(headers or {})
        conn.request(method, path, headers=all_headers)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        return response, body

    def test_key_is_private_and_stable(self):
        self.assertRegex(self.key, r"^[0-9a-f]{64}$")
        again = self.run_helper("serve", "--print-key", check=True).stdout.strip()
        self.assertEqual(again, self.key)
        path = os.path.join(self.home, ".local/share/iotspot-helper/serve.key")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_token_with_the_key(self):
        response, body = self.request("/v1/token?profile=default")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Cache-Control"), "no-store")
        self.assertIsNone(response.getheader("Access-Control-Allow-Origin"))
        data = json.loads(body)
        self.assertEqual(data["token_type"], "Bearer")
        self.assertEqual(self.api_get(data["access_token"])[0], 200)

    def test_the_cache_is_shared_with_the_token_command(self):
        token = self.run_helper("token", check=True).stdout.strip()
        for _ in range(3):
            _, body = self.request()
            self.assertEqual(json.loads(body)["access_token"], token)
        self.assertEqual(self.server.token_requests, 1)

    def loaded_modules(self):
        with open("/proc/%d/maps" % self.proc.pid) as maps:
            return {os.path.basename(line.split()[-1]) for line in maps
                    if "iotspot-helper-" in line}

    def test_the_network_module_is_loaded_only_on_a_cache_miss(self):
        self.run_helper("token", check=True)
        response, _ = self.request()
        self.assertEqual(response.status, 200)
        self.assertEqual(self.loaded_modules(), set(), "serving a cached token loaded a module")
        self.run_helper("logout", check=True)
        response, _ = self.request()
        self.assertEqual(response.status, 200)
        self.assertEqual(self.loaded_modules(), {"iotspot-helper-net.so"})

    def test_without_or_with_a_wrong_key_401(self):
        response, body = self.request(key=False)
        self.assertEqual(response.status, 401)
        self.assertEqual(json.loads(body)["error"], "missing_key")
        response, body = self.request(headers={"X-Iotspot-Key": "0" * 64})
        self.assertEqual(response.status, 401)
        self.assertEqual(json.loads(body)["error"], "wrong_key")
        self.assertEqual(self.server.token_requests, 0)

    def test_foreign_host_or_any_origin_403(self):
        for headers in ({"Host": "evil.example:%d" % self.port}, {"Host": "127.0.0.1:1"},
                        {"Origin": "https://evil.example"}, {"Origin": "null"}):
            with self.subTest(headers=headers):
                response, body = self.request(headers=headers)
                self.assertEqual(response.status, 403)
                self.assertNotIn("access_token", body)
        response, _ = self.request(method="OPTIONS",
                                   headers={"Origin": "https://evil.example",
                                            "Access-Control-Request-Method": "GET"})
        self.assertEqual(response.status, 403)
        self.assertIsNone(response.getheader("Access-Control-Allow-Origin"))

    def test_localhost_host_name_is_accepted(self):
        response, _ = self.request(headers={"Host": "localhost:%d" % self.port})
        self.assertEqual(response.status, 200)

    def test_unknown_profile_404_and_other_paths(self):
        response, body = self.request("/v1/token?profile=nope")
        self.assertEqual(response.status, 404)
        self.assertEqual(json.loads(body)["error"], "not_configured")
        self.assertEqual(self.request("/v1/other")[0].status, 404)
        self.assertEqual(self.request(method="POST")[0].status, 405)

    def test_delete_drops_the_refused_token_so_the_next_get_fetches_a_fresh_one(self):
        _, body = self.request()
        refused = json.loads(body)["access_token"]
        self.server.revoke(refused)
        response, body = self.request(method="DELETE")
        self.assertEqual(response.status, 200)
        self.assertEqual(json.loads(body), {"profile": "default", "dropped": True})
        _, body = self.request()
        fresh = json.loads(body)["access_token"]
        self.assertNotEqual(fresh, refused)
        self.assertEqual(self.api_get(fresh)[0], 200)
        self.assertEqual(self.server.token_requests, 2)
        response, body = self.request("/v1/token?profile=default", method="DELETE")
        self.assertEqual(json.loads(body)["dropped"], True)
        response, body = self.request(method="DELETE")
        self.assertEqual(json.loads(body)["dropped"], False)

    def test_delete_needs_the_key_the_host_and_no_origin(self):
        self.request()
        for headers, key, status in (({}, False, 401), ({"X-Iotspot-Key": "0" * 64}, True, 401),
                                     ({"Host": "evil.example:%d" % self.port}, True, 403),
                                     ({"Origin": "https://evil.example"}, True, 403)):
            with self.subTest(headers=headers, key=key):
                response, _ = self.request(method="DELETE", headers=headers, key=key)
                self.assertEqual(response.status, status)
        self.request()
        self.assertEqual(self.server.token_requests, 1, "a refused DELETE dropped the token")

    def test_token_server_failure_502(self):
        self.configure(profile="bad", secret="wrong-secret")
        response, body = self.request("/v1/token?profile=bad")
        self.assertEqual(response.status, 502)
        self.assertIn("invalid_client", json.loads(body)["message"])

    def test_sigterm_stops_cleanly_and_logs_without_secrets(self):
        self.request()
        self.request(key=False)
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0, self.redact(err))
        self.assertIn("-> 200", err)
        self.assertIn("-> 401", err)
        self.assertNoSecrets(err, extra=[self.key])

    def test_a_second_serve_on_the_same_port_says_so(self):
        proc = self.run_helper("serve", "--port", str(self.port), timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("is another iotspot-helper serve running", proc.stderr)

    def test_bad_port_is_a_usage_error(self):
        self.run_helper("serve", "--port", "99999", check=2)

    # -- hostile local clients and concurrency -------------------------------------------

    def raw(self, data, wait=5.0):
        """Sends raw bytes; returns everything the server sends until it closes (or `wait`)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=wait) as conn:
            conn.sendall(data)
            received = b""
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return received
                    received += chunk
            except socket.timeout:
                self.fail("serve kept the connection open after %r" % data[:60])

    def good_request_time(self):
        started = time.monotonic()
        response, body = self.request()
        self.assertEqual(response.status, 200, body)
        return time.monotonic() - started

    def open_idle(self, count, first_bytes=b""):
        sockets = []
        for _ in range(count):
            conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            if first_bytes:
                conn.sendall(first_bytes)
            sockets.append(conn)
            self.addCleanup(conn.close)
        return sockets

    def test_good_requests_are_answered_within_a_second_beside_50_idle_and_50_slowloris(self):
        self.request()  # the token is cached
        idle = self.open_idle(50)
        slow = self.open_idle(50, b"GET /v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stop = threading.Event()

        def drip():
            while not stop.wait(0.3):
                for conn in slow:
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        pass
        dripper = threading.Thread(target=drip)
        dripper.start()
        try:
            for _ in range(5):
                self.assertLess(self.good_request_time(), 1.0)
        finally:
            stop.set()
            dripper.join()
        self.assertEqual(len(idle), 50)

    def test_a_slowloris_connection_is_cut_after_the_head_deadline(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            started = time.monotonic()
            conn.sendall(b"GET /v1/token HTTP/1.1\r\n")
            conn.settimeout(0.3)
            while time.monotonic() - started < 8:
                try:
                    conn.sendall(b"X-A: b\r\n")
                    answer = conn.recv(4096)  # the 408 answer, or the end of the connection
                    break
                except socket.timeout:
                    continue
                except OSError:
                    answer = b""
                    break
            else:
                self.fail("serve was still reading the head after 8 s")
            self.assertLess(time.monotonic() - started, 5, "the head deadline is 2 s")
            self.assertTrue(answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer)

    def test_connections_are_bounded_and_good_requests_still_get_in(self):
        # One limit, 256 open connections: on loopback every client is 127.0.0.1.
        self.request()
        idle = self.open_idle(300)
        self.assertLess(self.good_request_time(), 1.0)
        closed = 0
        for conn in idle:
            conn.settimeout(0.05)
            try:
                if conn.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except OSError:
                closed += 1
        self.assertGreaterEqual(closed, 300 - 256, "no bound on open connections")

    def test_a_body_is_refused_and_the_connection_closed(self):
        head = "GET /v1/token HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Iotspot-Key: %s\r\n" % (
            self.port, self.key)
        for extra in ("Content-Length: 5\r\n\r\nhello", "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"):
            with self.subTest(extra=extra.split(":")[0]):
                answer = self.raw((head + extra).encode())
                self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
                self.assertNotIn(b"access_token", answer)

    def test_a_post_without_content_length_is_answered_at_once(self):
        started = time.monotonic()
        answer = self.raw(b"POST /v1/token HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % self.port)
        self.assertTrue(answer.startswith(b"HTTP/1.1 405 "), answer)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_malformed_requests_are_refused_and_closed(self):
        for data in (b"GARBAGE\r\n\r\n", b"GET /v1/token HTTP/9.9\r\n\r\n",
                     b"GET /v1/token HTTP/1.1\r\nno colon here\r\n\r\n",
                     b"GET /v1/token HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                     b"GET /v1/token HTTP/1.1\r\n folded: x\r\n\r\n",
                     b"GET http://evil/ HTTP/1.1\r\n\r\n",
                     b"GET /v1/token HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"):
            with self.subTest(data=data[:40]):
                answer = self.raw(data)
                self.assertRegex(answer, rb"^HTTP/1.1 (400|431|505) ")

    def test_control_characters_from_a_request_never_reach_the_log_raw(self):
        self.raw(b"GET /v1/\x1b[31mred\x07 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.raw(b"GET /v1/tok\x1b]0;owned\x07en HTTP/1.1\r\n\r\n")
        self.raw(b"GET /v1/%1b%07 HTTP/1.1\r\nHost: 127.0.0.1:" + str(self.port).encode() +
                 b"\r\n\r\n")
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0)
        self.assertNotIn("\x1b", err)
        self.assertNotIn("\x07", err)
        self.assertIn("-> 400", err)

    def test_a_hanging_fetch_for_one_profile_does_not_delay_another_profile(self):
        self.request()  # default's token is cached
        hanging = self.start_server()
        hanging.set(stall_handshake=True)
        self.configure(profile="hanging", server=hanging)
        results = {}

        def fetch_hanging():
            results["hanging"] = self.request("/v1/token?profile=hanging")[0].status
        thread = threading.Thread(target=fetch_hanging)
        thread.start()
        time.sleep(0.5)  # the fetch is under way
        try:
            for _ in range(3):
                self.assertLess(self.good_request_time(), 1.0)
            self.assertTrue(thread.is_alive(), "the hanging fetch ended early")
        finally:
            hanging.stop()
            thread.join(30)
        self.assertEqual(results.get("hanging"), 502)

    def test_a_profile_configured_while_serve_runs_is_served_without_a_restart(self):
        self.assertEqual(self.request("/v1/token?profile=later")[0].status, 404)
        self.configure(profile="later")
        response, body = self.request("/v1/token?profile=later")
        self.assertEqual(response.status, 200, body)

    def test_a_reconfigured_profile_is_used_as_configured_now(self):
        self.request()
        other = self.start_server()
        self.configure(server=other)  # default now points at another token server
        self.run_helper("logout", check=True)
        response, body = self.request()
        self.assertEqual(response.status, 200, body)
        self.assertEqual(json.loads(body)["access_token"], other.issued_tokens[-1])


if __name__ == "__main__":
    unittest.main()
