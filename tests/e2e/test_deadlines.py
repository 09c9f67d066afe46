"""Network faults end to end: IOTSPOT_TIMEOUT as a wall-clock bound on the whole fetch
(connect, TLS handshake, request, answer), and messages that name what failed.

Bounds are checked as behaviour ("ended before twice the deadline"), never as speed.

Run:  cd tests/e2e && IOTSPOT_HELPER_BIN=... /usr/bin/python3 -m unittest -v test_deadlines
"""

import os
import re
import shutil
import socket
import subprocess
import time
import unittest

from support.harness import HelperTestCase

NETWORK = 5


class DeadlineTestCase(HelperTestCase):
    def timed_token(self, timeout_seconds, *args):
        """Runs `token` with IOTSPOT_TIMEOUT; returns (process, seconds it took)."""
        start = time.monotonic()
        try:
            proc = self.run_helper(*args, "token", env=self.env(IOTSPOT_TIMEOUT=timeout_seconds),
                                   timeout=10 * timeout_seconds)
        except subprocess.TimeoutExpired:
            self.fail("token was still running %d s after a %d s deadline"
                      % (10 * timeout_seconds, timeout_seconds))
        return proc, time.monotonic() - start


class WallClockDeadlineTest(DeadlineTestCase):
    def test_a_slow_drip_answer_is_cut_at_the_deadline(self):
        # One byte every 0.5 s: each read is quick, the whole answer would take minutes.
        self.configure()
        self.server.script([{"drip": 0.5}])
        proc, elapsed = self.timed_token(4)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertIn("too slow", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertLess(elapsed, 8, "a 4 s deadline must end the command well before 8 s")
        self.assertNoSecrets(proc.stderr)

    def test_a_tls_handshake_that_never_completes_is_cut_at_the_deadline(self):
        self.configure()
        self.server.set(stall_handshake=True)
        proc, elapsed = self.timed_token(3)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("too slow", proc.stderr)
        self.assertIn("TLS handshake", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertLess(elapsed, 6, "a 3 s deadline must end the command well before 6 s")

    def test_the_helper_works_again_once_the_server_is_fast(self):
        self.configure()
        self.server.script([{"drip": 0.5}])
        self.assertEqual(self.timed_token(2)[0].returncode, NETWORK)
        self.server.clear_script()
        proc = self.run_helper("token", check=True)
        self.assertEqual(proc.stdout.strip(), self.server.issued_tokens[-1])


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MessagesTest(DeadlineTestCase):
    def test_a_missing_ca_file_is_named(self):
        ca_copy = os.path.join(self.home, "private-ca.pem")
        shutil.copy(self.pki.ca_cert, ca_copy)
        self.configure(ca_file=ca_copy)
        os.remove(ca_copy)
        proc = self.run_helper("token", check=NETWORK)
        self.assertIn(ca_copy, proc.stderr)
        self.assertIn("No such file or directory", proc.stderr)
        self.assertIn("--ca-file", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_refused_proxy_is_reported_as_the_proxy(self):
        self.configure()
        proxy_port = closed_port()
        env = self.env(HTTPS_PROXY="http://127.0.0.1:%d" % proxy_port, IOTSPOT_TIMEOUT="2")
        proc = self.run_helper("token", env=env, check=NETWORK)
        self.assertIn("the proxy 127.0.0.1:%d refused the connection" % proxy_port, proc.stderr)
        self.assertIn("HTTPS_PROXY", proc.stderr)
        self.assertNotIn("token server", proc.stderr)
        self.assertEqual(self.server.token_requests, 0)


class TlsFailurePerClientTest(DeadlineTestCase):
    """Prefetch workers run their handshakes at the same time; each must report the reason
    of its own failure, never one recorded by another worker."""

    LINE = re.compile(r'^iotspot-helper: prefetch: profile "([^"]+)": (.+)$')

    def test_each_prefetch_worker_reports_its_own_tls_outcome(self):
        wrong_name = self.start_server(self.pki.wrong_name_cert, self.pki.wrong_name_key)
        untrusted, misnamed, good = [], [], []
        for index in range(6):
            self.configure("untrusted%d" % index, ca_file=self.pki.other_ca_cert)
            untrusted.append("untrusted%d" % index)
            self.configure("misnamed%d" % index, server=wrong_name)
            misnamed.append("misnamed%d" % index)
            self.configure("good%d" % index)
            good.append("good%d" % index)
        for _ in range(3):
            self.run_helper("logout", "--all", check=True)
            proc = self.run_helper("prefetch", "--all", "--jobs", "18")
            self.assertNotEqual(proc.returncode, 0)
            reasons = {}
            for line in proc.stderr.splitlines():
                match = self.LINE.match(line)
                if match:
                    reasons[match.group(1)] = match.group(2)
            self.assertEqual(sorted(reasons), sorted(untrusted + misnamed), proc.stderr)
            for name in untrusted:
                self.assertIn("unable to get local issuer certificate", reasons[name], name)
            for name in misnamed:
                self.assertNotIn("issuer", reasons[name], name)
                self.assertIn("127.0.0.1", reasons[name], name)
            status = self.run_helper("status", check=None).stdout
            blocks = {block.split('"')[1]: block for block in status.split("profile ")[1:]}
            for name in good:
                self.assertIn("token cached", blocks[name], name)


class ModuleLoadingTest(HelperTestCase):
    def test_a_network_module_that_cannot_be_loaded_is_named_with_its_reason(self):
        self.configure()
        bindir = os.path.join(self.home, "bin")
        os.mkdir(bindir)
        helper = os.path.join(bindir, "iotspot-helper")
        shutil.copy(self.bin, helper)
        broken = os.path.join(bindir, "iotspot-helper-net.so")
        with open(broken, "w") as f:
            f.write("not a shared object\n")
        proc = subprocess.run([helper, "token"], env=self.env(), cwd=self.home,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn(broken + ": ", proc.stderr)
        self.assertIn("lib/iotspot-helper/iotspot-helper-net.so: not found", proc.stderr)
        self.assertIn("reinstall iotspot-helper", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_missing_shared_cache_module_falls_back_to_a_direct_fetch(self):
        """A profile with shared_cache on an install without iotspot-helper-redis.so: the
        token still comes, fetched directly, with one warning naming the module."""
        self.configure(extra_args=["--shared-cache", "redis://127.0.0.1:%d" % closed_port()])
        bindir = os.path.join(self.home, "bin")
        os.mkdir(bindir)
        helper = os.path.join(bindir, "iotspot-helper")
        shutil.copy(self.bin, helper)
        shutil.copy(os.path.join(os.path.dirname(self.bin), "iotspot-helper-net.so"), bindir)
        proc = subprocess.run([helper, "token"], env=self.env(), cwd=self.home,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), self.server.issued_tokens[-1])
        warnings = proc.stderr.splitlines()
        self.assertEqual(len(warnings), 1, proc.stderr)
        self.assertIn("iotspot-helper-redis.so: not found", warnings[0])
        self.assertIn("fetching the token directly", warnings[0])
        self.assertEqual(self.server.token_requests, 1)


if __name__ == "__main__":
    unittest.main()
