"""A token the API refuses, on hosts that share it through a real Redis or Valkey
(docs/fleet.md, "A refused token").

Dropping a refused token (api's and iotspot-curl's 401 path, git's erase, logout) also drops
the shared entry while it still holds that same token, so one host's recovery costs one token
request and the other hosts take the new token from Redis. A newer token that another host
published is never deleted. Each simulated host is a HOME of its own; the token server counts
the token requests and revokes tokens the way an API does after a secret is rotated.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from support.redis_server import installed_servers
from test_fleet import FleetBase

HERE = os.path.dirname(os.path.abspath(__file__))
IOTSPOT_CURL = os.path.normpath(os.path.join(HERE, "..", "..", "plugins", "curl", "iotspot-curl"))
REAL_CURL = shutil.which("curl", path="/usr/bin:/bin")


class FleetRefused(FleetBase):
    def shared_token(self) -> bytes:
        """The sealed value the shared tier holds for the profile."""
        return self.redis.command("GET", self.token_key())

    def api(self, home: str) -> subprocess.CompletedProcess:
        proc = self.run_helper("api", "/v1/ping", env=self.host_env(home))
        self.assertNoSecrets(proc.stdout + proc.stderr)
        return proc

    def iotspot_curl(self, home: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([IOTSPOT_CURL, "-sS", "--cacert", self.pki.ca_cert,
                               self.server.api_url.rstrip("/") + "/v1/ping"],
                              env=self.host_env(home, IOTSPOT_HELPER=self.bin),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              cwd=home, timeout=60)
        self.assertNoSecrets(proc.stdout + proc.stderr)
        return proc

    def serve(self, home: str) -> int:
        """Starts `serve` as host `home` on a free loopback port (stopped at cleanup)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([self.bin, "serve", "--port", str(port)],
                                env=self.host_env(home), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home)

        def stop() -> None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        self.fail("serve did not start listening")

    def two_hosts_sharing_a_revoked_token(self):
        """Hosts A and B hold the same token (B took it from Redis), which is then revoked."""
        a, b = self.host(), self.host()
        refused = self.token(a).stdout.strip()
        self.assertEqual(self.token(b).stdout.strip(), refused)
        self.assertEqual(self.server.token_requests, 1)
        self.server.revoke_all()
        self.server.reset_counters()
        return a, b, refused

    def assert_api_answered(self, proc: subprocess.CompletedProcess) -> None:
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertNotIn("warning", proc.stderr)

    def assert_b_takes_the_new_token_from_redis(self, b: str, refused: str) -> None:
        fresh = self.server.issued_tokens[0]
        self.server.reset_counters()
        proc = self.api(b)
        self.assert_api_answered(proc)
        self.assertEqual([e["token"] for e in self.server.api_request_log], [refused, fresh])
        self.assertEqual(self.server.token_requests, 0, "B took the new token from Redis")
        self.assertEqual(self.token(b).stdout.strip(), fresh)

    def test_api_recovers_with_one_request_and_the_other_host_takes_the_new_token(self):
        a, b, refused = self.two_hosts_sharing_a_revoked_token()
        proc = self.api(a)
        self.assert_api_answered(proc)
        self.assertEqual([e["status"] for e in self.server.api_request_log], [401, 200])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        self.assert_b_takes_the_new_token_from_redis(b, refused)

    def test_iotspot_curl_recovers_with_one_request_and_the_other_host_takes_the_new_token(self):
        a, b, refused = self.two_hosts_sharing_a_revoked_token()
        proc = self.iotspot_curl(a)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual([e["status"] for e in self.server.api_request_log], [401, 200])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        self.assert_b_takes_the_new_token_from_redis(b, refused)

    def test_git_erase_drops_the_shared_token_too(self):
        a, b, refused = self.two_hosts_sharing_a_revoked_token()
        request = "protocol=https\nhost=127.0.0.1:%d\npassword=%s\n\n" % (self.server.port,
                                                                           refused)
        proc = self.run_helper("erase", input=request, env=self.host_env(a))
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.redis.keys_and_values(), [])
        fresh = self.token(a).stdout.strip()
        self.assertNotEqual(fresh, refused)
        self.assertEqual(self.server.token_requests, 1)
        self.assert_b_takes_the_new_token_from_redis(b, refused)

    def test_serves_delete_drops_the_shared_token_too(self):
        a, b, refused = self.two_hosts_sharing_a_revoked_token()
        key = self.run_helper("serve", "--print-key", env=self.host_env(a),
                              check=True).stdout.strip()
        conn = http.client.HTTPConnection("127.0.0.1", self.serve(a), timeout=20)
        conn.request("DELETE", "/v1/token", headers={"X-Iotspot-Key": key})
        response = conn.getresponse()
        self.assertEqual((response.status, json.loads(response.read())),
                         (200, {"profile": "default", "dropped": True}))
        conn.close()
        self.assertEqual(self.redis.keys_and_values(), [])
        self.assertNotEqual(self.token(a).stdout.strip(), refused)
        self.assertEqual(self.server.token_requests, 1)
        self.assert_b_takes_the_new_token_from_redis(b, refused)

    def test_a_newer_token_another_host_published_is_kept(self):
        a = self.host()
        old = self.token(a).stdout.strip()
        # Redis forgets (flushed), another host fetches and publishes a newer token.
        self.redis.command("FLUSHALL")
        newer = self.token(self.host()).stdout.strip()
        self.assertNotEqual(newer, old)
        published = self.shared_token()
        proc = self.run_helper("logout", env=self.host_env(a))
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(self.shared_token(), published)
        self.server.reset_counters()
        self.assertEqual(self.token(a).stdout.strip(), newer)
        self.assertEqual(self.server.token_requests, 0)

    def test_redis_down_while_dropping_costs_one_warning_and_never_fails(self):
        a, _, refused = self.two_hosts_sharing_a_revoked_token()
        self.redis.kill()
        try:
            proc = self.api(a)
        finally:
            self.redis.start()
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual([e["status"] for e in self.server.api_request_log], [401, 200])
        self.assertEqual(self.server.token_requests, 1)
        lines = [line for line in proc.stderr.splitlines() if "Redis" in line]
        self.assertEqual(len(lines), 1, self.redact(proc.stderr))
        self.assertIn("Redis at 127.0.0.1:%d" % self.redis.port, lines[0])


# The base, kept in a tuple (which unittest does not look into): it is deleted from the module
# below so that unittest runs it only once per server program.
_BASES = (FleetRefused,)


def _classes():
    made = {}
    for program in installed_servers():
        for base in _BASES:
            name = base.__name__ + program.split("-")[0].capitalize()
            made[name] = type(name, (base,), {"program": program})
    if not made:
        raise RuntimeError("redis-server or valkey-server is needed: run scripts/bootstrap.sh "
                           "--test")
    return made


globals().update(_classes())
del FleetRefused
