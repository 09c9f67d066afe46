"""The shared tier on highly available Redis or Valkey (docs/fleet.md): Sentinel and Cluster.

Real servers from Debian (redis-server on Debian 12, valkey-server on 13, each also run as a
Sentinel), all on 127.0.0.1, ports chosen free. Each simulated host is a HOME of its own;
the token server counts the token requests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unittest
from typing import List

from support.harness import HelperTestCase
from support.redis_ha import MASTER, ClusterSet, SentinelSet, cli_program, wait_for
from support.redis_server import HELPER_USER, free_port, installed_servers

PROGRAMS = installed_servers()
HOSTS = 5
CALLERS = 4


class HaFleet(HelperTestCase):
    """Hosts and waves of callers, as in test_fleet.py."""

    password = ""

    def host(self, url: str) -> str:
        home = tempfile.mkdtemp(prefix="host-", dir=self.tmp)
        os.chmod(home, 0o700)
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        self.configure(env=self.env(HOME=home),
                       extra_args=["--shared-cache", url, "--redis-password-stdin"],
                       secret=self.client_secret + "\n" + self.password)
        return home

    def wave(self, homes: List[str], callers: int = CALLERS,
             **extra: str) -> List[subprocess.CompletedProcess]:
        procs = [subprocess.Popen([self.bin, "token"], env=self.env(HOME=home, **extra),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=home,
                                  start_new_session=True)
                 for _ in range(callers) for home in homes]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results

    def assertQuiet(self, results: List[subprocess.CompletedProcess]) -> None:  # noqa: N802
        """Every caller got the one token, with no warning at all."""
        for proc in results:
            self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
            self.assertEqual(proc.stderr, "", self.redact(proc.stderr))
        self.assertEqual(len({proc.stdout for proc in results}), 1)

    @staticmethod
    def drop_local_caches(homes: List[str]) -> None:
        for home in homes:
            shutil.rmtree(os.path.join(home, ".cache", "iotspot-helper"), ignore_errors=True)


class SentinelBase(HaFleet):
    program = PROGRAMS[0] if PROGRAMS else ""
    tls = False

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not cls.program:
            raise unittest.SkipTest("no redis-server or valkey-server installed")
        tls = (cls.pki.server_cert, cls.pki.server_key, cls.pki.ca_cert) if cls.tls else None
        cls.ha = SentinelSet(cls.program, os.path.join(cls.tmp, "sentinel"), tls=tls)
        cls.addClassCleanup(cls.ha.stop)
        cls.ha.start()
        cls.password = cls.ha.primary.helper_password

    def setUp(self) -> None:
        super().setUp()
        self.ha.current_primary().command("FLUSHALL")

    def replicated(self) -> None:
        """Waits until the replica holds what the primary holds (a failover loses what it
        does not)."""
        primary = self.ha.current_primary()
        other = next(s for s in self.ha.servers if s is not primary)
        keys = primary.command("KEYS", "iotspot-helper:*")
        wait_for("replication of the token", lambda: all(
            other.command("EXISTS", key) == 1 for key in keys))

    def failover_between_two_waves(self, hosts: int = HOSTS, callers: int = CALLERS,
                                   **extra: str) -> None:
        # A first Sentinel where nothing listens: the helper asks the next one.
        url = self.ha.url(HELPER_USER, first=free_port())
        homes = [self.host(url) for _ in range(hosts)]
        self.server.set(delay=0.5)  # every caller starts while the first request is open
        first = self.wave(homes, callers, **extra)
        self.assertQuiet(first)
        self.assertEqual(self.server.token_requests, 1)

        self.replicated()
        old = self.ha.current_primary()
        new = self.ha.failover()
        self.assertIsNot(new, old)

        # New hosts, and old hosts whose local caches are gone: the new primary answers.
        self.server.set(delay=0)
        self.drop_local_caches(homes)
        second = self.wave(homes + [self.host(url) for _ in range(hosts)], callers, **extra)
        self.assertQuiet(second)
        self.assertEqual({proc.stdout for proc in second}, {first[0].stdout})
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(self.api_get(first[0].stdout.strip())[0], 200)


class SentinelFleet(SentinelBase):
    def test_a_forced_failover_between_two_waves_costs_no_token_request(self):
        # A longer Redis timeout: every caller of a wave starts at once, which a 2-core
        # machine running the sanitizer build may not serve within 250 ms a command (the
        # deadline itself is tested in test_fleet).
        self.failover_between_two_waves(IOTSPOT_REDIS_TIMEOUT_MS="2000")

    def test_status_asks_the_sentinels_and_the_primary(self):
        url = self.ha.url(HELPER_USER)
        home = self.host(url)
        self.assertEqual(self.run_helper("token", env=self.env(HOME=home)).returncode, 0)
        proc = self.run_helper("status", env=self.env(HOME=home), check=True)
        self.assertIn("shared cache: %s (answered)" % url, proc.stdout)
        self.assertNotIn(self.password, proc.stdout + proc.stderr)

    def test_a_primary_name_the_sentinels_do_not_know(self):
        url = self.ha.url(HELPER_USER).replace("/" + MASTER, "/elsewhere")
        proc = self.run_helper("token", env=self.env(HOME=self.host(url)))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        lines = [line for line in proc.stderr.splitlines() if "Redis" in line]
        self.assertEqual(len(lines), 1, self.redact(proc.stderr))
        self.assertIn('knows no primary named "elsewhere"', lines[0])
        self.assertIn("fetching the token directly", lines[0])
        self.assertNotIn(self.password, proc.stderr)

    def test_a_replica_named_as_the_server_is_refused_in_one_line(self):
        replica = next(s for s in self.ha.servers if s is not self.ha.current_primary())
        # A replica that has just been demoted serves its old data until it has synced.
        wait_for("the replica's sync", lambda: replica.command("DBSIZE") == 0)
        home = self.host("redis://%s@127.0.0.1:%d" % (HELPER_USER, replica.port))
        proc = self.run_helper("token", env=self.env(HOME=home))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        lines = [line for line in proc.stderr.splitlines() if "Redis" in line]
        self.assertEqual(len(lines), 1, self.redact(proc.stderr))
        self.assertIn("read-only replica (READONLY)", lines[0])


class SentinelTlsFleet(SentinelBase):
    tls = True

    def test_rediss_sentinel_follows_a_failover_over_verified_tls(self):
        # Fewer callers and a longer Redis timeout: each makes two TLS handshakes (a
        # Sentinel, the primary), which a loaded 2-core test machine may not finish in 250 ms.
        self.failover_between_two_waves(2, 3, IOTSPOT_REDIS_TIMEOUT_MS="2000")


class ClusterFleet(HaFleet):
    program = next((p for p in PROGRAMS if cli_program(p)), "")

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not cls.program:
            raise unittest.SkipTest("no redis-server and redis-cli (or valkey's) installed")
        cls.cluster = ClusterSet(cls.program, os.path.join(cls.tmp, "cluster"))
        cls.addClassCleanup(cls.cluster.stop)
        cls.cluster.start()
        cls.password = cls.cluster.nodes[0].helper_password

    def setUp(self) -> None:
        super().setUp()
        self.cluster.flush()

    def url(self, node: int) -> str:
        return "redis://%s@127.0.0.1:%d" % (HELPER_USER, self.cluster.nodes[node].port)

    def token_key(self) -> bytes:
        keys = [key for _, key in self.cluster.keys() if key.endswith(b"}:token")]
        self.assertEqual(len(keys), 1, keys)
        return keys[0]

    def test_many_hosts_on_any_node_make_one_token_request(self):
        nodes = len(self.cluster.nodes)
        homes = [self.host(self.url(i % nodes)) for i in range(2 * nodes)]
        self.server.set(delay=0.5)
        first = self.wave(homes)
        self.assertQuiet(first)
        self.assertEqual(self.server.token_requests, 1)

        # The token and its lock share a slot: the lock was taken and released on the node
        # that holds the token, which only some hosts named (the rest followed MOVED).
        key = self.token_key()
        owner = self.cluster.owner_of(key)
        self.assertEqual(owner.command("EXISTS", key), 1)
        self.assertEqual(self.cluster.owner_of(key.replace(b"}:token", b"}:lock")), owner)
        self.assertLess(sum(self.url(i % nodes).endswith(":%d" % owner.port)
                            for i in range(len(homes))), len(homes))

        self.server.set(delay=0)
        self.drop_local_caches(homes)
        second = self.wave(homes)
        self.assertQuiet(second)
        self.assertEqual({proc.stdout for proc in second}, {first[0].stdout})
        self.assertEqual(self.server.token_requests, 1)

    def test_moved_is_followed_from_a_node_that_does_not_hold_the_slot(self):
        home = self.host(self.url(0))
        self.assertEqual(self.run_helper("token", env=self.env(HOME=home)).returncode, 0)
        owner = self.cluster.owner_of(self.token_key())
        other = next(i for i, node in enumerate(self.cluster.nodes) if node is not owner)
        reader = self.host(self.url(other))
        proc = self.run_helper("token", env=self.env(HOME=reader))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(proc.stderr, "", self.redact(proc.stderr))
        self.assertEqual(self.server.token_requests, 1)

    def test_ask_is_followed_while_the_slot_migrates(self):
        home = self.host(self.url(0))
        self.assertEqual(self.run_helper("token", env=self.env(HOME=home)).returncode, 0)
        key = self.token_key()
        owner = self.cluster.owner_of(key)
        target = next(node for node in self.cluster.nodes if node is not owner)
        slot = owner.command("CLUSTER", "KEYSLOT", key)
        self.cluster.flush()
        self.server.reset_counters()
        ids = {node: node.command("CLUSTER", "MYID").decode() for node in (owner, target)}
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner])
        owner.command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
        try:
            homes = [self.host(self.url(i % 3)) for i in range(HOSTS)]
            self.server.set(delay=0.5)
            results = self.wave(homes)
            self.assertQuiet(results)
            self.assertEqual(self.server.token_requests, 1)
            # Written where ASK sent it: on the node the slot moves to.
            self.assertEqual(target.command("CLUSTER", "COUNTKEYSINSLOT", slot), 1)
            self.assertEqual(owner.command("CLUSTER", "COUNTKEYSINSLOT", slot), 0)
        finally:
            target.command("FLUSHALL")
            for node in (owner, target):
                node.command("CLUSTER", "SETSLOT", slot, "NODE", ids[owner])
