"""End-to-end tests of `iotspot-helper serve`, the local token endpoint for tools that
cannot start a process: the key, Host and Origin rules, the shared cache, SIGTERM."""

import http.client
import json
import os
import signal
import socket
import stat
import subprocess
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


if __name__ == "__main__":
    unittest.main()
