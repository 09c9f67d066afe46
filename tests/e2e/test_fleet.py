"""The shared tier (docs/fleet.md): many hosts, one token, through a real Redis or Valkey.

Each simulated host is a HOME of its own with the same profile; the token server counts the
token requests. The servers are Debian's redis-server and/or valkey-server, whichever are
installed (both, where both are), with ACL users and, for rediss://, TLS with the test CA.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from typing import Dict, List, Optional

from support.harness import HelperTestCase, random_client_secret
from support.hostile_redis import HostileRedis
from support.pki import make_pki
from support.redis_server import RedisServer, installed_servers

HOSTS = 5
CALLERS = 20
# The fallback bound: the default Redis timeout (250 ms) per command, once, plus a fetch
# from the local token server. Generous for a loaded 2-core machine; far below what a
# missing timeout would take (the 20 s request budget, or forever).
FALLBACK_BOUND = 5.0
# The peak resident memory a helper may reach whatever Redis answers: a generous bound (a
# miss that loads the Redis module peaks at about 17 MiB); an unbounded reply took GBs.
PEAK_RSS_BOUND_KIB = 64 * 1024
# A value well over the 64 KiB cap, planted by someone with write access to Redis alone.
PLANTED_VALUE_SIZE = 8 * 1024 * 1024
# GNU time (Debian's time package, scripts/bootstrap.sh --test) measures the peak RSS.
GNU_TIME = "/usr/bin/time"


class Measured:
    """A helper run with its peak resident memory, its time and its output."""

    def __init__(self, returncode: int, stdout: str, stderr: str, elapsed: float,
                 peak_rss_kib: int) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.elapsed, self.peak_rss_kib = elapsed, peak_rss_kib


def run_measured(binary: str, args: List[str], env: Dict[str, str],
                 kill_after: float = 60) -> Measured:
    """Runs the helper under GNU time, which reports the helper's own peak RSS (the
    rusage of a child forked from this test process would count this process's memory:
    Linux keeps the larger of the pre-exec and post-exec peaks); kills it after
    ``kill_after`` seconds (then the exit code is -9)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as rss:
        start = time.monotonic()
        proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", rss.name, binary, *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=env["HOME"], start_new_session=True)
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        peak = rss.read().decode().strip().splitlines()
        # GNU time notes a signal that ended the helper on a line of its own, before %M.
        if proc.returncode == 0:
            returncode = 0
        elif peak and peak[0].startswith("Command terminated by signal"):
            returncode = -int(peak[0].rsplit(" ", 1)[1])
        elif peak and peak[0].startswith("Command exited with non-zero status"):
            returncode = int(peak[0].rsplit(" ", 1)[1])
        else:
            returncode = proc.returncode
        return Measured(returncode, out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"), elapsed,
                        int(peak[-1]) if peak and peak[-1].isdigit() else 0)


class FleetBase(HelperTestCase):
    program = "redis-server"
    tls = False

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        tls = None
        if cls.tls:
            tls = (cls.pki.server_cert, cls.pki.server_key, cls.pki.ca_cert)
        cls.redis = RedisServer(cls.program, os.path.join(cls.tmp, "redis"), tls=tls)
        cls.redis.start()
        cls.addClassCleanup(cls.redis.kill)

    def setUp(self) -> None:
        super().setUp()
        self.redis.resume()
        self.redis.command("FLUSHALL")
        self.hosts: List[str] = []

    # -- hosts ----------------------------------------------------------------------------
    def host(self, url: Optional[str] = None, password: Optional[str] = None) -> str:
        """A new host (HOME) configured with the shared cache; its Redis password is stored
        with --redis-password-stdin."""
        home = tempfile.mkdtemp(prefix="host-", dir=self.tmp)
        os.chmod(home, 0o700)
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        password = self.redis.helper_password if password is None else password
        self.configure(env=self.env(HOME=home),
                       extra_args=["--shared-cache", url or self.redis.url,
                                   "--redis-password-stdin"],
                       secret=self.client_secret + "\n" + password)
        self.hosts.append(home)
        return home

    def host_env(self, home: str, **extra: str) -> Dict[str, str]:
        return self.env(HOME=home, **extra)

    def token(self, home: str, **extra: str) -> subprocess.CompletedProcess:
        return self.run_helper("token", env=self.host_env(home, **extra))

    def spawn(self, home: str, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen([self.bin, *(args or ("token",))], env=self.host_env(home, **extra),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=home,
                                start_new_session=True)

    def wave(self, homes: List[str], callers: int) -> List[subprocess.CompletedProcess]:
        procs = [self.spawn(home) for _ in range(callers) for home in homes]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results

    @staticmethod
    def drop_local_cache(home: str) -> None:
        shutil.rmtree(os.path.join(home, ".cache", "iotspot-helper"), ignore_errors=True)

    def token_key(self) -> bytes:
        keys = [key for key, _ in self.redis.keys_and_values()
                if key.startswith(b"iotspot-helper:v2:{") and key.endswith(b"}:token")]
        self.assertEqual(len(keys), 1, keys)
        return keys[0]

    def assertFellBack(self, proc: subprocess.CompletedProcess, elapsed: float,  # noqa: N802
                       words: str) -> None:
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.api_get(proc.stdout.strip())[0], 200)
        lines = [line for line in proc.stderr.splitlines() if "Redis" in line]
        self.assertEqual(len(lines), 1, self.redact(proc.stderr))
        self.assertIn("Redis at 127.0.0.1:%d" % self.redis.port, lines[0])
        self.assertIn(words, lines[0])
        self.assertIn("fetching the token directly", lines[0])
        self.assertNotIn(self.redis.helper_password, proc.stderr)
        self.assertNoSecrets(proc.stderr)
        self.assertLess(elapsed, FALLBACK_BOUND)

    def timed_token(self, home: str, **extra: str):
        start = time.monotonic()
        proc = self.token(home, **extra)
        return proc, time.monotonic() - start


class FleetShare(FleetBase):
    def test_hosts_times_callers_make_one_token_request(self):
        homes = [self.host() for _ in range(HOSTS)]
        self.server.set(delay=0.5)  # every caller starts while the first request is open
        results = self.wave(homes, CALLERS)
        for proc in results:
            self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
            self.assertNoSecrets(proc.stderr)
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(len({proc.stdout for proc in results}), 1)
        self.assertEqual(self.api_get(results[0].stdout.strip())[0], 200)

        # Second wave after the local caches are gone (expired, or new pods): Redis answers.
        self.server.reset_counters()
        self.server.set(delay=0)
        for home in homes:
            self.drop_local_cache(home)
        second = self.wave(homes, CALLERS)
        self.assertEqual(self.server.token_requests, 0)
        self.assertEqual({proc.stdout for proc in second}, {results[0].stdout})

        # Redis holds nothing usable: no token, no secret, no password, in any key or value.
        entries = self.redis.keys_and_values()
        self.assertTrue(entries)
        for key, value in entries:
            self.assertNoSecrets(key + b" " + value, extra=[self.redis.helper_password])
            self.assertNotIn(self.client_id.encode(), key + value)

    def test_a_password_never_lands_in_argv_the_config_or_output(self):
        proc = self.run_helper("configure", "--client-id", self.client_id,
                               "--shared-cache", "redis://helper:hunter2-pw@127.0.0.1:6379",
                               "--client-secret-stdin", input=self.client_secret + "\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("must not hold a password", proc.stderr)
        self.assertNotIn("hunter2-pw", proc.stdout + proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        home = self.host()
        with open(os.path.join(home, ".config", "iotspot-helper", "config")) as config:
            text = config.read()
        self.assertIn("shared_cache = " + self.redis.url, text)
        self.assertNotIn(self.redis.helper_password, text)
        proc = self.run_helper("--verbose", "token", env=self.host_env(home), check=True)
        self.assertNotIn(self.redis.helper_password, proc.stdout + proc.stderr)
        proc = self.run_helper("status", "--json", env=self.host_env(home), check=True)
        self.assertNotIn(self.redis.helper_password, proc.stdout + proc.stderr)
        proc = self.run_helper("logout", "--forget-secret", env=self.host_env(home), check=True)
        self.assertIn("Deleted the stored Redis password", proc.stdout)

    def test_a_host_name_is_resolved(self):
        # localhost: looked up (on a thread of its own, within the command's deadline), not
        # taken as an address.
        url = self.redis.url.replace("@127.0.0.1:", "@localhost:")
        first = self.token(self.host(url))
        self.assertEqual((first.returncode, first.stderr), (0, ""))
        self.server.reset_counters()
        proc = self.token(self.host(url))
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(proc.stdout, first.stdout)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_local_hit_never_touches_redis(self):
        home = self.host()
        self.assertEqual(self.token(home).returncode, 0)
        self.redis.kill()
        try:
            proc = self.run_helper("token", "--verbose", env=self.host_env(home))
            self.assertEqual(proc.returncode, 0)
            self.assertNotIn("Redis", proc.stderr)
            self.assertIn("cache hit", proc.stderr)
        finally:
            self.redis.start()

    def test_a_tampered_value_is_ignored_and_refetched(self):
        first = self.token(self.host())
        key = self.token_key()
        value = self.redis.command("GET", key)
        flipped = value[:-1] + (b"0" if value[-1:] != b"0" else b"1")
        self.redis.command("SET", key, flipped)
        self.server.reset_counters()
        proc = self.run_helper("token", env=self.host_env(self.host()))
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(self.server.token_requests, 1)
        self.assertNotEqual(proc.stdout, first.stdout)
        self.assertIn("does not open with this client's secret", proc.stderr)
        self.assertNotIn(flipped.decode(), proc.stderr)
        self.assertNotEqual(self.redis.command("GET", key), flipped)

    def test_a_value_sealed_for_another_binding_is_ignored(self):
        self.token(self.host())
        value = self.redis.command("GET", self.token_key())
        # Another scope of the same client: another key name, and another binding.
        self.server.set(scope="iotspot/other")
        other = self.host()
        self.run_helper("configure", "--scope", "iotspot/other", env=self.host_env(other),
                        check=True)
        self.assertEqual(self.token(other).returncode, 0)
        other_key = [key for key, _ in self.redis.keys_and_values()
                     if key.startswith(b"iotspot-helper:v2:{") and key.endswith(b"}:token") and
                     self.redis.command("GET", key) != value]
        self.assertEqual(len(other_key), 1)
        self.redis.command("SET", other_key[0], value)  # the first scope's token, moved
        self.drop_local_cache(other)
        self.server.reset_counters()
        proc = self.token(other)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.token_requests, 1)
        self.assertIn("does not open with this client's secret", proc.stderr)

    def test_a_replayed_expired_value_is_ignored(self):
        self.server.set(expires_in=2)
        self.token(self.host())
        key = self.token_key()
        value = self.redis.command("GET", key)
        time.sleep(2.5)
        self.redis.command("SET", key, value)  # replayed, without PX
        self.server.set(expires_in=3600)
        self.server.reset_counters()
        proc = self.token(self.host())
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.token_requests, 1)
        self.assertNotIn("warning", proc.stderr)

    def test_flushed_or_restarted_redis_costs_one_fetch_and_no_warning(self):
        self.token(self.host())
        self.redis.command("FLUSHALL")
        self.server.reset_counters()
        proc = self.token(self.host())
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(self.server.token_requests, 1)
        self.redis.kill()
        self.redis.start()
        self.server.reset_counters()
        proc = self.token(self.host())
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(self.server.token_requests, 1)

    def test_status_shows_the_shared_cache_and_where_the_token_came_from(self):
        self.token(self.host())
        home = self.host()
        self.token(home)
        proc = self.run_helper("status", env=self.host_env(home), check=True)
        self.assertIn("shared cache: %s (answered)" % self.redis.url, proc.stdout)
        self.assertIn("from the shared cache", proc.stdout)
        self.assertNotIn(self.redis.helper_password, proc.stdout + proc.stderr)
        self.redis.stop_process()
        try:
            proc = self.run_helper("status", env=self.host_env(home), check=True)
        finally:
            self.redis.resume()
        self.assertIn("did not answer within 250 ms", proc.stdout)

    def test_prefetch_keeps_the_fleet_fresh_without_double_fetching(self):
        cron = self.host()
        homes = [self.host() for _ in range(3)]
        self.server.set(delay=0.5)
        procs = [self.spawn(cron, "prefetch")] + [self.spawn(home) for home in homes]
        for proc in procs:
            proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0)
        self.assertEqual(self.server.token_requests, 1)
        # A cron job on another host finds the token the fleet already shares.
        proc = self.run_helper("prefetch", env=self.host_env(self.host()), check=True)
        self.assertIn("taken from the shared cache", proc.stdout)
        self.assertEqual(self.server.token_requests, 1)


class FleetRotation(FleetBase):
    """A secret rotation: the token server accepts two secrets of the client while hosts move
    from the old one to the new one (docs/fleet.md, the rotation runbook)."""

    def setUp(self) -> None:
        super().setUp()
        self.new_secret = random_client_secret()
        self.server.set_client_secrets(self.client_id, [self.client_secret, self.new_secret])
        self.addCleanup(self.server.set_client_secrets, self.client_id, [self.client_secret])

    def rotated_host(self, current: str, next_secret: Optional[str] = None) -> str:
        """A host whose secret is ``current`` and, with ``next_secret``, that one too."""
        home = tempfile.mkdtemp(prefix="host-", dir=self.tmp)
        os.chmod(home, 0o700)
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        lines = [current] + ([next_secret] if next_secret else []) + [self.redis.helper_password]
        extra = ["--shared-cache", self.redis.url, "--redis-password-stdin"]
        if next_secret:
            extra.insert(0, "--next-client-secret-stdin")
        self.configure(env=self.env(HOME=home), extra_args=extra, secret="\n".join(lines))
        return home

    def assertClean(self, results: List[subprocess.CompletedProcess]) -> None:  # noqa: N802
        for proc in results:
            self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
            self.assertNotIn("does not open", proc.stderr)
            self.assertNotIn("warning", proc.stderr)
            self.assertNoSecrets(proc.stderr, extra=[self.new_secret])

    def test_hosts_split_between_two_secrets_make_one_request_per_secret(self):
        old_hosts = [self.rotated_host(self.client_secret) for _ in range(3)]
        new_hosts = [self.rotated_host(self.new_secret) for _ in range(3)]
        both = [self.rotated_host(self.client_secret, self.new_secret) for _ in range(2)]
        self.server.set(delay=0.3)
        for _ in range(3):  # waves: the local caches are gone each time (new pods)
            for home in old_hosts + new_hosts + both:
                self.drop_local_cache(home)
            self.assertClean(self.wave(old_hosts + new_hosts + both, 3))
        self.assertEqual(self.server.token_requests, 2)
        self.assertEqual(len(self.server.issued_tokens), 2)

        # The rotation ends: every host on the new secret, one request per lifetime again.
        self.server.set_client_secrets(self.client_id, [self.new_secret])
        self.redis.command("FLUSHALL")
        self.server.reset_counters()
        after = [self.rotated_host(self.new_secret) for _ in range(4)]
        for _ in range(2):
            for home in after:
                self.drop_local_cache(home)
            self.assertClean(self.wave(after, 3))
        self.assertEqual(self.server.token_requests, 1)

    def test_a_next_secret_not_active_yet_falls_back_to_the_live_one(self):
        self.server.set_client_secrets(self.client_id, [self.client_secret])
        home = self.rotated_host(self.client_secret, self.new_secret)
        proc = self.token(home)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.api_get(proc.stdout.strip())[0], 200)
        self.assertEqual(proc.stderr, "")
        status = json.loads(self.run_helper("status", "--json", env=self.host_env(home),
                                            check=True).stdout)["profiles"][0]
        self.assertEqual(status["rotation"], {"next_secret": True, "accepted": "current",
                                              "refused": "next", "at": status["rotation"]["at"]})
        self.assertEqual(status["counters"]["host"]["refused"], 1)
        self.assertEqual(status["counters"]["host"]["issued"], 1)
        plain = self.run_helper("status", env=self.host_env(home), check=True).stdout
        self.assertIn("accepted the current secret last and refused the next one", plain)
        self.assertIn("counters:   this host 2 token requests (1 failed), 0 shared hits, "
                      "about 0.00 USD; the fleet, last 28 days: 2 token requests", plain)
        self.assertNoSecrets(plain, extra=[self.new_secret])

        # Activated: the next secret is accepted, and status says the old one may go.
        self.server.set_client_secrets(self.client_id, [self.new_secret])
        self.drop_local_cache(home)
        self.redis.command("FLUSHALL")
        self.assertEqual(self.token(home).returncode, 0)
        plain = self.run_helper("status", env=self.host_env(home), check=True).stdout
        self.assertIn("accepted the next secret last", plain)

    def test_a_host_with_both_secrets_takes_the_live_secrets_entry_without_a_request(self):
        self.server.set_client_secrets(self.client_id, [self.client_secret])
        self.assertEqual(self.token(self.rotated_host(self.client_secret)).returncode, 0)
        self.server.reset_counters()
        proc = self.token(self.rotated_host(self.client_secret, self.new_secret))
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(self.server.token_requests, 0)  # not even a refused one

    def test_redis_stopped_during_a_rotation_costs_one_warning(self):
        home = self.rotated_host(self.client_secret, self.new_secret)
        self.redis.stop_process()
        try:
            proc, elapsed = self.timed_token(home)
        finally:
            self.redis.resume()
        self.assertFellBack(proc, elapsed, "did not answer within 250 ms")
        self.assertEqual(self.server.token_requests, 1)

    def test_counters_equal_the_token_servers_count_and_promtool_accepts_them(self):
        homes = [self.rotated_host(self.client_secret) for _ in range(3)]
        self.server.set(delay=0.3)
        self.assertClean(self.wave(homes, 2))
        for home in homes:  # the token only: the counters stay beside the cache
            self.run_helper("logout", env=self.host_env(home), check=True)
        self.assertClean(self.wave(homes, 1))
        self.server.script([{"status": 400, "body": '{"error": "invalid_grant"}',
                             "content_type": "application/json"}])
        # logout drops the shared entry too (it holds the same token); the fleet's counts stay
        self.run_helper("logout", env=self.host_env(homes[0]), check=True)
        self.token(homes[0])
        host_requests = fleet = 0
        for home in homes:
            counters = json.loads(self.run_helper("status", "--json", env=self.host_env(home),
                                                  check=True).stdout)["profiles"][0]["counters"]
            host_requests += counters["host"]["token_requests"]
            fleet = counters["fleet"]
        self.assertEqual(host_requests, self.server.token_requests)
        self.assertEqual(fleet["token_requests"], self.server.token_requests)
        self.assertEqual(fleet["issued"], len(self.server.issued_tokens))
        self.assertEqual(fleet["failures"], 1)
        self.assertGreaterEqual(fleet["shared_hits"], 3)
        self.assertAlmostEqual(fleet["estimated_cost_usd"],
                               round(fleet["token_requests"] * 2.25 / 1000, 4))

        metrics = os.path.join(homes[0], "textfile", "iotspot.prom")
        os.makedirs(os.path.dirname(metrics))
        proc = self.run_helper("prefetch", "--metrics", metrics, env=self.host_env(homes[0]))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        with open(metrics, encoding="utf-8") as f:
            text = f.read()
        self.assertIn('iotspot_helper_token_requests_total{profile="default",outcome="refused"} 1',
                      text)
        self.assertEqual(os.stat(metrics).st_mode & 0o777, 0o644)
        promtool = shutil.which("promtool")
        if promtool is None:
            self.fail("promtool is needed: run scripts/bootstrap.sh --test (Debian's prometheus)")
        check = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                               capture_output=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        # sink writes the same file after each refresh.
        os.remove(metrics)
        token_file = os.path.join(homes[0], "token")
        self.run_helper("sink", "--once", "--metrics", metrics, token_file,
                        env=self.host_env(homes[0]), check=True)
        with open(metrics, encoding="utf-8") as f:
            self.assertEqual(f.read(), text)


class FleetFaults(FleetBase):
    def test_redis_killed_mid_run(self):
        home = self.host()
        self.server.set(delay=1.0)
        proc = self.spawn(home)
        deadline = time.monotonic() + 10
        while not any(key.endswith(b"}:lock") for key, _ in self.redis.keys_and_values()):
            self.assertLess(time.monotonic(), deadline, "the lock was never taken")
            time.sleep(0.05)
        self.redis.kill()
        try:
            out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, self.redact(err))
            self.assertIn("Redis at 127.0.0.1:%d" % self.redis.port, err)
            self.server.set(delay=0)
            # A host configured while Redis is down: configure never talks to Redis.
            result, elapsed = self.timed_token(self.host())
            self.assertFellBack(result, elapsed, "refused the connection")
        finally:
            self.redis.start()

    def test_redis_stopped(self):
        home = self.host()
        self.redis.stop_process()
        try:
            result, elapsed = self.timed_token(home)
        finally:
            self.redis.resume()
        self.assertFellBack(result, elapsed, "did not answer within 250 ms")

    def test_wrong_password(self):
        home = self.host(password="not-the-password")
        result, elapsed = self.timed_token(home)
        self.assertFellBack(result, elapsed, "refused the user \"helper\" or its password")
        result, elapsed = self.timed_token(self.host(),
                                           IOTSPOT_REDIS_PASSWORD="also-wrong")
        self.assertFellBack(result, elapsed, "WRONGPASS")

    def test_lock_holder_killed(self):
        holder = self.host()
        self.server.set(delay=30)
        proc = self.spawn(holder, IOTSPOT_TIMEOUT="3")
        deadline = time.monotonic() + 10
        while not any(key.endswith(b"}:lock") for key, _ in self.redis.keys_and_values()):
            self.assertLess(time.monotonic(), deadline, "the lock was never taken")
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        self.server.set(delay=0)
        self.server.reset_counters()
        start = time.monotonic()
        result = self.token(self.host(), IOTSPOT_TIMEOUT="3")
        elapsed = time.monotonic() - start
        self.assertEqual(result.returncode, 0, self.redact(result.stderr))
        self.assertEqual(self.api_get(result.stdout.strip())[0], 200)
        self.assertEqual(self.server.token_requests, 1)
        self.assertLess(elapsed, 3 + FALLBACK_BOUND)


    def test_a_planted_value_over_the_cap(self):
        self.token(self.host())
        key = self.token_key()
        for command in ("token", "prefetch"):
            with self.subTest(command=command):
                self.redis.command("SET", key, b"x" * PLANTED_VALUE_SIZE)
                self.server.reset_counters()
                result = run_measured(self.bin, [command], self.host_env(self.host()))
                assert_survived(self, result, self.redis.port,
                                "a reply announcing a value of %d bytes" % PLANTED_VALUE_SIZE,
                                FALLBACK_BOUND)
                self.assertEqual(self.server.token_requests, 1)


class FleetTls(FleetBase):
    tls = True

    def test_rediss_shares_over_verified_tls(self):
        homes = [self.host() for _ in range(2)]
        self.server.set(delay=0.3)
        results = self.wave(homes, 3)
        self.assertEqual({proc.returncode for proc in results}, {0})
        self.assertEqual(self.server.token_requests, 1)

    def test_stopped_during_the_tls_handshake(self):
        home = self.host()
        self.redis.stop_process()
        try:
            result, elapsed = self.timed_token(home)
        finally:
            self.redis.resume()
        self.assertFellBack(result, elapsed, "did not answer within 250 ms")

    def other_redis(self, cert: str, key: str, ca: str,
                    hostname: str = "127.0.0.1") -> RedisServer:
        server = RedisServer(self.program, tempfile.mkdtemp(prefix="redis-", dir=self.tmp),
                             tls=(cert, key, ca), hostname=hostname)
        server.start()
        self.addCleanup(server.kill)
        return server

    def test_untrusted_certificate(self):
        other = make_pki(os.path.join(self.tmp, "other-pki"))
        self.redis = self.other_redis(other.server_cert, other.server_key, other.ca_cert)
        result, elapsed = self.timed_token(self.host())
        self.assertFellBack(result, elapsed, "failed the TLS handshake")
        self.assertIn("ca_file", result.stderr)

    def test_certificate_for_another_host_name(self):
        self.redis = self.other_redis(self.pki.wrong_name_cert, self.pki.wrong_name_key,
                                      self.pki.ca_cert, hostname="wrong.example")
        result, elapsed = self.timed_token(self.host())
        self.assertFellBack(result, elapsed, "not valid for 127.0.0.1")


class HostileReplies(HelperTestCase):
    """Answers to GET that once crashed (nested arrays), stalled (a value dripped byte by
    byte), ballooned (an announced 2 GB value) the helper or put raw control characters on
    its stderr, from a small hostile server (support/hostile_redis.py). Each costs one
    warning and a direct fetch, for `token` and `prefetch` alike."""

    TIMEOUT = 5  # IOTSPOT_TIMEOUT

    def hostile(self, mode: str, tls: bool) -> HostileRedis:
        server = HostileRedis(mode, (self.pki.server_cert, self.pki.server_key) if tls else None)
        server.start()
        self.addCleanup(server.stop)
        return server

    def new_host(self, port: int, tls: bool) -> str:
        home = tempfile.mkdtemp(prefix="host-", dir=self.tmp)
        os.chmod(home, 0o700)
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        url = "%s://127.0.0.1:%d" % ("rediss" if tls else "redis", port)
        self.configure(env=self.env(HOME=home), extra_args=["--shared-cache", url])
        return home

    def survive(self, mode: str, words: str, bound: Optional[float] = None, tls: bool = False,
                **extra: str) -> None:
        server = self.hostile(mode, tls)
        for command in ("token", "prefetch"):
            with self.subTest(command=command):
                home = self.new_host(server.port, tls)
                self.server.reset_counters()
                env = self.env(HOME=home, IOTSPOT_TIMEOUT=str(self.TIMEOUT), **extra)
                result = run_measured(self.bin, [command], env, kill_after=30)
                assert_survived(self, result, server.port, words,
                                self.TIMEOUT if bound is None else bound)
                if command == "token":
                    self.assertEqual(self.api_get(result.stdout.strip())[0], 200)
                self.assertEqual(self.server.token_requests, 1)

    def test_nested_arrays_for_a_value(self):
        self.survive("nested", "a reply of the wrong type (an array)")

    def test_an_array_for_a_value(self):
        self.survive("array", "a reply of the wrong type (an array)")

    def test_a_value_dripped_byte_by_byte(self):
        self.survive("drip", "did not answer within 250 ms")

    def test_a_value_dripped_over_tls_in_the_middle_of_a_record(self):
        self.survive("drip", "did not answer within 250 ms", tls=True)

    def test_a_dripped_value_with_a_long_redis_timeout_ends_within_iotspot_timeout(self):
        # IOTSPOT_REDIS_TIMEOUT_MS longer than IOTSPOT_TIMEOUT: the token's deadline wins.
        # The bound allows 1 s for starting the process on a loaded machine.
        self.TIMEOUT = 3
        self.survive("drip", "IOTSPOT_TIMEOUT", bound=self.TIMEOUT + 1.0,
                     IOTSPOT_REDIS_TIMEOUT_MS="10000")

    def test_an_announced_2_gb_value(self):
        self.survive("huge", "a reply announcing a value of 2000000000 bytes")

    def test_an_error_with_escape_and_bell_is_escaped(self):
        self.survive("error", "answered with an error: ERR \\x1b[31mred\\x1b[0m and a bell\\x07")


def assert_survived(test: unittest.TestCase, result: Measured, port: int, words: str,
                    bound: float) -> None:
    """`result` is a success with one warning naming Redis at `port` and holding `words`,
    no raw control character on stderr, within `bound` seconds and PEAK_RSS_BOUND_KIB."""
    test.assertEqual(result.returncode, 0, result.stderr)
    lines = result.stderr.splitlines()
    test.assertEqual(len(lines), 1, result.stderr)
    test.assertIn("warning: Redis at 127.0.0.1:%d " % port, lines[0])
    test.assertIn(words, lines[0])
    test.assertTrue(lines[0].endswith("; fetching the token directly"), lines[0])
    test.assertFalse([c for c in result.stderr if c != "\n" and (c < " " or c == "\x7f")],
                     repr(result.stderr))
    test.assertLess(result.peak_rss_kib, PEAK_RSS_BOUND_KIB)
    test.assertLess(result.elapsed, bound)


# The bases, kept here: they are deleted from the module below so that unittest does not run
# them without a server program.
_BASES = (FleetShare, FleetFaults, FleetTls, FleetRotation)


def _classes():
    programs = installed_servers()
    if not programs:
        raise RuntimeError("redis-server or valkey-server is needed: run scripts/bootstrap.sh "
                           "--test")
    made = {}
    for program in programs:
        tag = program.split("-")[0].capitalize()
        for base in _BASES:
            name = base.__name__ + tag
            made[name] = type(name, (base,), {"program": program})
    return made


globals().update(_classes())
del FleetShare, FleetFaults, FleetTls, FleetRotation
