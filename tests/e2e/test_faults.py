"""Faults end to end: retries, throttling, malformed answers, stale-while-error, clock skew,
concurrent callers, and a damaged, full, read-only or foreign store.

Run:  cd tests/e2e && IOTSPOT_HELPER_BIN=... /usr/bin/python3 -m unittest -v test_faults

The token server's fault script (support/token_server.py, TokenServer.script) makes each
token request fail in a chosen way. IOTSPOT_TIMEOUT keeps the retry budget short.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.harness import HelperTestCase  # noqa: E402

RETRY_NOTE = "retrying in "


def retry_waits_ms(stderr: str) -> list:
    """The waits announced by --verbose ("...; retrying in 2000 ms"), in milliseconds."""
    waits = []
    for line in stderr.splitlines():
        if RETRY_NOTE in line and line.endswith(" ms"):
            waits.append(int(line.rsplit(RETRY_NOTE, 1)[1][:-3]))
    return waits


class FaultTestCase(HelperTestCase):

    def cached_profiles(self, env=None) -> dict:
        """status --json: {profile name: token object}."""
        proc = self.run_helper("status", "--json", env=env, check=True)
        return {p["name"]: p["token"] for p in json.loads(proc.stdout)["profiles"]}

    def timed(self, *args, **kwargs):
        started = time.monotonic()
        proc = self.run_helper(*args, **kwargs)
        return proc, time.monotonic() - started


class RetryTest(FaultTestCase):

    def test_server_errors_are_retried_until_success(self):
        self.configure()
        self.server.script([{"status": 503}, {"status": 500}])
        proc = self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 3)
        self.assertEqual(proc.stdout.strip(), self.server.issued_tokens[-1])
        self.assertEqual(proc.stderr, "")

    def test_429_with_retry_after_seconds_waits_that_long(self):
        self.configure()
        self.server.script([{"status": 429, "retry_after": 2}])
        proc, elapsed = self.timed("--verbose", "token", check=True)
        self.assertEqual(self.server.token_requests, 2)
        self.assertEqual(retry_waits_ms(proc.stderr), [2000])
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertIn("throttling", proc.stderr)
        self.assertNoSecrets(proc.stderr)

    def test_retry_after_as_http_date_is_honoured(self):
        self.configure()
        # The date has whole seconds (formatdate rounds down): 3 to 4 s after now. How much of
        # that is left when the helper reads it depends on how fast it starts; what a user
        # sees is when the retry comes: not before the date, and not later than the wait
        # the date asked for.
        date = int(time.time() + 4)
        self.server.script([{"status": 503, "retry_after": email.utils.formatdate(date, usegmt=True)}])
        proc, elapsed = self.timed("--verbose", "token", check=True)
        requests = self.server.token_request_log
        self.assertEqual(len(requests), 2)
        waits = retry_waits_ms(proc.stderr)
        self.assertEqual(len(waits), 1, proc.stderr)
        self.assertGreaterEqual(requests[1]["received_at"], date - 0.05)  # clock reads
        self.assertLessEqual(waits[0], (date - requests[0]["received_at"]) * 1000 + 1000)
        self.assertGreaterEqual(requests[1]["received_at"] - requests[0]["received_at"],
                                waits[0] / 1000)
        self.assertGreaterEqual(elapsed, waits[0] / 1000)

    def test_cognitos_throttling_answer_is_retried_not_taken_for_bad_credentials(self):
        self.configure()
        self.server.script([{"throttle": True}, {"throttle": True, "retry_after": 1}])
        proc = self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 3)
        self.assertTrue(proc.stdout.strip())

    def test_lasting_throttling_is_exit_5_within_the_time_budget(self):
        self.configure()
        self.server.script([{"throttle": True}] * 20)
        # A 6 s budget leaves room for a second attempt even when a sanitizer build on a
        # loaded machine takes seconds over the first one.
        proc, elapsed = self.timed("token", env=self.env(IOTSPOT_TIMEOUT=6), check=5)
        self.assertIn("throttling", proc.stderr)
        self.assertGreaterEqual(self.server.token_requests, 2)
        self.assertLess(elapsed, 18)  # a 6 s budget; generous for slow machines
        self.assertEqual(proc.stdout, "")

    def test_an_oauth_client_error_fails_at_once_with_exit_4(self):
        self.configure(secret="not-the-secret")
        proc, elapsed = self.timed("token", check=4)
        self.assertEqual(self.server.token_requests, 1)
        self.assertIn("invalid_client", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertNoSecrets(proc.stderr, extra=["not-the-secret"])

    def test_retries_stop_after_five_attempts_or_the_time_budget(self):
        self.configure()
        self.server.script([{"status": 502}] * 20)
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=30), check=5)
        self.assertEqual(self.server.token_requests, 5)
        self.assertIn("HTTP 502", proc.stderr)
        self.assertIn("gave up after 5 attempts", proc.stderr)

        self.server.reset_counters()
        self.server.script([{"status": 502}] * 20)
        proc, elapsed = self.timed("token", env=self.env(IOTSPOT_TIMEOUT=2), check=5)
        self.assertLess(self.server.token_requests, 5)
        self.assertLess(elapsed, 12)  # a 2 s budget; generous for slow machines

    def test_a_retry_after_beyond_the_budget_fails_at_once(self):
        self.configure()
        self.server.script([{"status": 503, "retry_after": 120}])
        proc, elapsed = self.timed("token", env=self.env(IOTSPOT_TIMEOUT=5), check=5)
        self.assertEqual(self.server.token_requests, 1)
        self.assertLess(elapsed, 60)  # not the 120 s the server asked for
        self.assertIn("HTTP 503", proc.stderr)

    def test_a_dropped_connection_is_retried(self):
        self.configure()
        self.server.script([{"drop": True}])
        proc = self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 2)
        self.assertTrue(proc.stdout.strip())

    def test_a_refused_connection_is_retried_within_the_budget(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        self.configure(extra_args=["--token-url",
                                   "https://127.0.0.1:%d/oauth2/token" % closed_port])
        # 6 s: room for a retry even when a sanitizer build on a loaded machine is slow to
        # make its first attempt.
        proc, elapsed = self.timed("--verbose", "token", env=self.env(IOTSPOT_TIMEOUT=6),
                                   check=5)
        self.assertIn("was refused", proc.stderr)
        self.assertGreaterEqual(len(retry_waits_ms(proc.stderr)), 1, proc.stderr)
        self.assertLess(elapsed, 18)  # a 6 s budget; generous for slow machines

    def test_a_server_that_does_not_answer_times_out(self):
        self.configure()
        self.server.script([{"delay": 30}])
        proc, elapsed = self.timed("token", env=self.env(IOTSPOT_TIMEOUT=2), check=5)
        self.assertIn("did not answer within", proc.stderr)
        self.assertLess(elapsed, 15)  # a 2 s budget, not the server's 30 s


class MalformedAnswerTest(FaultTestCase):
    """Every malformed answer is exit 5 naming what was wrong, and nothing is cached."""

    def check_malformed(self, script, expected):
        self.configure()
        self.server.script(script)
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=2), check=5)
        self.assertEqual(proc.stdout, "")
        self.assertIn(expected, proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertNoSecrets(proc.stderr, extra=["abc.def.ghi"])
        self.assertEqual(self.cached_profiles()["default"], {"cached": False})

        self.server.clear_script()
        self.server.reset_counters()
        token = self.run_helper("token", check=True).stdout.strip()
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(token, self.server.issued_tokens[0])

    @staticmethod
    def answer(**fields):
        return [{"body": json.dumps(fields)}]

    def test_not_json(self):
        self.check_malformed([{"body": "<html>502 Bad Gateway</html>",
                               "content_type": "text/html"}], "not a JSON object")

    def test_no_access_token(self):
        self.check_malformed(self.answer(expires_in=3600, token_type="Bearer"), "no access_token")

    def test_non_numeric_expires_in(self):
        self.check_malformed(self.answer(access_token="abc.def.ghi", expires_in="soon",
                                         token_type="Bearer"), "no numeric expires_in")

    def test_zero_expires_in(self):
        self.check_malformed(self.answer(access_token="abc.def.ghi", expires_in=0,
                                         token_type="Bearer"), "expires_in of 0")

    def test_an_access_token_that_is_no_bearer_token(self):
        self.check_malformed(self.answer(access_token="two words", expires_in=3600,
                                         token_type="Bearer"), "not a bearer token")

    def test_truncated_body(self):
        self.check_malformed([{"truncate": True}] * 20, "cut short")

    def test_connection_dropped_before_the_answer(self):
        self.check_malformed([{"drop": True}] * 20, "closed the connection without an answer")


class LifetimeBoundsTest(FaultTestCase):
    """What the server says about time is bounded: a lifetime over 7 days is clamped to 7
    days with a warning, zero or negative is exit 5, an implausible Date is ignored."""

    SEVEN_DAYS = 7 * 24 * 3600

    def check_clamped(self, expires_in):
        self.configure()
        self.server.script([{"expires_in": expires_in}])
        first = self.run_helper("token", check=True)
        self.assertIn("the token server says the token lives %d s" % expires_in, first.stderr)
        self.assertIn("caching it for 168 h 0 min only", first.stderr)
        self.assertNotIn("internal error", first.stderr)
        token = self.cached_profiles()["default"]
        self.assertTrue(token["valid"], token)
        self.assertLessEqual(token["expires_in"], self.SEVEN_DAYS)
        self.assertGreater(token["expires_in"], self.SEVEN_DAYS - 120)
        # A cache hit, not a token served "fresh" from an overflowed past.
        second = self.run_helper("token", check=True)
        self.assertEqual(second.stdout, first.stdout)
        self.assertEqual(second.stderr, "")
        self.assertEqual(self.server.token_requests, 1)
        # And not fresh forever either: a refresh is due within the 7 days.
        self.run_helper("token", "--min-ttl", str(self.SEVEN_DAYS), check=True)
        self.assertEqual(self.server.token_requests, 2)

    def test_int64_max_expires_in_is_clamped_to_7_days(self):
        self.check_clamped(2 ** 63 - 1)

    def test_10_to_the_15_expires_in_is_clamped_to_7_days(self):
        self.check_clamped(10 ** 15)

    def test_8_days_is_clamped_and_one_day_is_not(self):
        self.check_clamped(8 * 24 * 3600)
        self.setUp()
        self.configure()
        self.server.script([{"expires_in": 86400}])
        proc = self.run_helper("token", check=True)
        self.assertEqual(proc.stderr, "")
        self.assertGreater(self.cached_profiles()["default"]["expires_in"], 86400 - 120)

    def test_a_negative_expires_in_is_exit_5(self):
        self.configure()
        self.server.script([{"expires_in": -5}])
        proc = self.run_helper("token", check=5)
        self.assertIn("expires_in of -5", proc.stderr)
        self.assertEqual(self.cached_profiles()["default"], {"cached": False})

    def test_an_implausible_date_header_is_ignored(self):
        self.configure()
        self.server.script([{"date": "Fri, 31 Dec 9999 23:59:59 GMT"}])
        proc = self.run_helper("token", check=True)
        self.assertEqual(proc.stderr, "")
        self.assertGreater(self.cached_profiles()["default"]["expires_in"], 3500)


class StaleWhileErrorTest(FaultTestCase):

    def test_a_failed_refresh_hands_out_the_still_valid_cached_token(self):
        self.configure()
        token = self.run_helper("token", check=True).stdout
        self.server.script([{"status": 503}] * 20)
        # --min-ttl 3600 puts the one-hour token inside the margin: a refresh is due.
        proc = self.run_helper("token", "--min-ttl", "3600", env=self.env(IOTSPOT_TIMEOUT=2),
                               check=True)
        self.assertEqual(proc.stdout, token)
        self.assertGreaterEqual(self.server.token_requests, 2)
        self.assertRegex(proc.stderr, r'refreshing the token of profile "default" failed: '
                                      r'.*HTTP 503.*; using the cached token, which expires '
                                      r'\S+Z \(in [^)]+\)')
        self.assertNoSecrets(proc.stderr)

    def test_a_rejected_refresh_also_hands_out_the_cached_token(self):
        self.configure()
        token = self.run_helper("token", check=True).stdout
        self.server.script([{"status": 400, "body": json.dumps({"error": "invalid_client"})}])
        proc = self.run_helper("token", "--min-ttl", "3600", check=True)
        self.assertEqual(proc.stdout, token)
        self.assertIn("invalid_client", proc.stderr)

    def test_an_expired_token_is_not_handed_out(self):
        self.configure()
        self.server.set(expires_in=11)
        self.run_helper("token", check=True)
        # Stale-while-error never hands out a token in its last 10 seconds.
        time.sleep(1.2)
        self.server.script([{"status": 503}] * 20)
        proc = self.run_helper("token", "--min-ttl", "3600", env=self.env(IOTSPOT_TIMEOUT=2),
                               check=5)
        self.assertEqual(proc.stdout, "")
        self.assertIn("HTTP 503", proc.stderr)


class ClockSkewTest(FaultTestCase):

    def check_skew(self, date: str, direction: str):
        self.configure()
        self.server.script([{"date": date}])
        first = self.run_helper("token", check=True)
        self.assertRegex(first.stderr, r"warning: the local clock is .* %s the token server's"
                         % direction)
        self.assertIn("NTP", first.stderr)
        # Expiry counts on the local clock: the token is cached for its full hour, and the
        # next call is a cache hit, not a refetch.
        token = self.cached_profiles()["default"]
        self.assertTrue(token["valid"])
        self.assertGreater(token["expires_in"], 3500)
        second = self.run_helper("token", check=True)
        self.assertEqual(second.stdout, first.stdout)
        self.assertEqual(second.stderr, "")
        self.assertEqual(self.server.token_requests, 1)

    def test_a_server_clock_far_in_the_past_is_warned_about_and_the_token_cached(self):
        self.check_skew("Mon, 01 Jan 2001 00:00:00 GMT", "ahead of")

    def test_a_server_clock_hours_ahead_is_warned_about_and_the_token_cached(self):
        self.check_skew(email.utils.formatdate(time.time() + 3 * 3600, usegmt=True), "behind")


class ConcurrencyTest(FaultTestCase):

    def test_32_concurrent_callers_on_an_empty_cache_make_one_request(self):
        # Three rounds, each in a new HOME, to catch a race that only sometimes shows.
        self.server.set(delay=0.3)
        for round_number in range(3):
            with self.subTest(round=round_number):
                home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
                os.chmod(home, 0o700)
                self.addCleanup(shutil.rmtree, home, ignore_errors=True)
                env = self.env(HOME=home)
                self.configure(env=env)
                self.server.reset_counters()
                procs = [subprocess.Popen([self.bin, "token"], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, env=env, cwd=home)
                         for _ in range(32)]
                results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
                self.assertEqual(self.server.token_requests, 1)
                tokens = set()
                for code, stdout, stderr in results:
                    self.assertEqual(code, 0, self.redact(stderr))
                    self.assertEqual(stderr, "")
                    tokens.add(stdout)
                self.assertEqual(tokens, {self.server.issued_tokens[0] + "\n"})


class LockWaitTest(FaultTestCase):
    """Waiting on another process's refresh is bounded by IOTSPOT_TIMEOUT."""

    def start_stopped_holder(self):
        """A `token` call that takes the profile's lock, then is stopped (SIGSTOP) while its
        request is under way. Returns the process; it is killed at the end of the test."""
        self.server.set(delay=30)
        holder = subprocess.Popen([self.bin, "token"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=self.env(IOTSPOT_TIMEOUT=60), cwd=self.home)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        deadline = time.monotonic() + 30
        while self.server.token_requests == 0:  # it holds the lock once it has asked
            self.assertIsNone(holder.poll())
            self.assertLess(time.monotonic(), deadline, "the holder never asked for a token")
            time.sleep(0.05)
        os.kill(holder.pid, signal.SIGSTOP)
        self.server.set(delay=0)
        return holder

    def test_a_stopped_lock_holder_does_not_block_other_callers_forever(self):
        self.configure()
        holder = self.start_stopped_holder()
        proc, elapsed = self.timed("token", env=self.env(IOTSPOT_TIMEOUT=2), timeout=30,
                                   check=5)
        self.assertLess(elapsed, 15)  # a 2 s deadline; generous for slow machines
        self.assertEqual(proc.stdout, "")
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("process %d has held the lock" % holder.pid, proc.stderr)
        self.assertRegex(proc.stderr, r"for \d+ s")
        self.assertIn("kill %d" % holder.pid, proc.stderr)
        self.assertEqual(self.server.token_requests, 1)  # only the stopped holder's

    def test_a_stopped_lock_holder_leaves_the_cached_token_in_use(self):
        self.configure()
        token = self.run_helper("token", check=True).stdout
        self.server.reset_counters()
        # --min-ttl 3600 makes the holder refresh: it takes the lock and is stopped.
        self.server.set(delay=30)
        holder = subprocess.Popen([self.bin, "token", "--min-ttl", "3600"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=self.env(IOTSPOT_TIMEOUT=60),
                                  cwd=self.home)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        while self.server.token_requests == 0:
            self.assertIsNone(holder.poll())
            time.sleep(0.05)
        os.kill(holder.pid, signal.SIGSTOP)
        proc = self.run_helper("token", "--min-ttl", "3600", env=self.env(IOTSPOT_TIMEOUT=2),
                               timeout=30, check=True)
        self.assertEqual(proc.stdout, token)
        self.assertIn("process %d has held the lock" % holder.pid, proc.stderr)
        self.assertIn("using the cached token", proc.stderr)


class StoreTestCase(FaultTestCase):
    """Where the store's files are, and ways to make a directory or file read-only."""

    def paths(self):
        return {
            "cache": os.path.join(self.home, ".cache", "iotspot-helper"),
            "data": os.path.join(self.home, ".local", "share", "iotspot-helper"),
            "config": os.path.join(self.home, ".config", "iotspot-helper", "config"),
        }

    def make_read_only(self, path: str) -> None:
        """Makes the directory `path` refuse new files, even to root: chmod 500 is enough for
        other users; root ignores modes, so then the immutable attribute (chattr +i), which
        root must obey too. Skips the test when neither works here."""
        os.chmod(path, 0o500)
        self.addCleanup(os.chmod, path, 0o700)  # cleanups run last first: after chattr -i
        if self.can_create_in(path):
            if not self.chattr_immutable(path):
                self.skipTest("cannot make a directory read-only for root here "
                              "(chattr +i is not supported by this file system)")
        self.assertFalse(self.can_create_in(path))

    def chattr_immutable(self, path: str) -> bool:
        if shutil.which("chattr") is None:
            return False
        if subprocess.run(["chattr", "+i", path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            return False
        self.addCleanup(subprocess.run, ["chattr", "-i", path])
        return True

    @staticmethod
    def can_create_in(path: str) -> bool:
        probe = os.path.join(path, ".probe")
        try:
            with open(probe, "w"):
                pass
        except OSError:
            return False
        os.remove(probe)
        return True

    def make_read_only_file(self, path: str) -> None:
        os.chmod(path, 0o400)
        self.addCleanup(os.chmod, path, 0o600)
        try:
            with open(path, "r+b"):
                writable = True
        except OSError:
            writable = False
        if writable and not self.chattr_immutable(path):
            self.skipTest("cannot make a file read-only for root here")



class StoreFaultTest(StoreTestCase):

    def test_a_cache_directory_that_cannot_be_created_degrades_to_no_cache(self):
        self.configure()
        # A regular file where the cache directory should be: nothing can be created below it.
        blocked = os.path.join(self.home, "blocked")
        with open(blocked, "w"):
            pass
        env = self.env(XDG_CACHE_HOME=os.path.join(blocked, "cache"))
        for _ in range(2):
            proc = self.run_helper("token", env=env, check=True)
            self.assertTrue(proc.stdout.strip())
            self.assertIn("continuing without the token cache", proc.stderr)
            self.assertIn(blocked, proc.stderr)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_read_only_cache_directory_degrades_to_no_cache(self):
        self.configure()
        cache = self.paths()["cache"]
        os.makedirs(cache, 0o700)
        self.make_read_only(cache)
        for _ in range(2):
            proc = self.run_helper("token", check=True)
            self.assertTrue(proc.stdout.strip())
            self.assertIn("continuing without the token cache", proc.stderr)
            self.assertNoSecrets(proc.stderr)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_cache_that_turned_read_only_still_serves_and_refreshes(self):
        self.configure()
        token = self.run_helper("token", check=True).stdout
        cache = self.paths()["cache"]
        self.make_read_only(cache)
        for name in os.listdir(cache):
            if os.path.isfile(os.path.join(cache, name)):
                self.make_read_only_file(os.path.join(cache, name))
        self.server.reset_counters()

        hit = self.run_helper("token", check=True)
        self.assertEqual(hit.stdout, token)
        self.assertEqual(self.server.token_requests, 0)

        refreshed = self.run_helper("token", "--min-ttl", "3600", check=True)
        self.assertNotEqual(refreshed.stdout, token)
        self.assertEqual(self.server.token_requests, 1)
        self.assertIn("the token was not cached", refreshed.stderr)
        self.assertNoSecrets(refreshed.stderr)

    def test_a_full_disk_degrades_to_fetching_without_caching(self):
        """A real ENOSPC: the cache directory on a tiny tmpfs, mounted in a private mount
        namespace (unshare, as an unprivileged user namespace's root); skipped where the
        kernel or the container forbids that."""
        self.configure()
        cache = os.path.join(self.home, "cache")
        os.mkdir(cache, 0o700)
        out = os.path.join(self.home, "out")
        os.mkdir(out, 0o700)
        script = r'''
set -u
mount -t tmpfs -o size=512k,mode=700 tmpfs "$CACHE" || exit 99
run() { "$HELPER" "$@" > "$OUT/$N.stdout" 2> "$OUT/$N.stderr"; echo $? > "$OUT/$N.rc"; N=$((N + 1)); }
N=0
run token                      # 0: caches the token
dd if=/dev/zero of="$CACHE/filler" bs=4k 2>/dev/null
run token                      # 1: a cache hit on the full disk
run token --min-ttl 3600       # 2: a refresh that cannot be cached
rm -rf "$CACHE"/iotspot-helper
dd if=/dev/zero of="$CACHE/filler2" bs=1k 2>/dev/null
run token                      # 3: no cache yet and no room for one
'''
        env = self.env(CACHE=cache, OUT=out, HELPER=self.bin, XDG_CACHE_HOME=cache)
        proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               script], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120)
        if proc.returncode != 0:
            self.skipTest("cannot mount a tmpfs in a user namespace here: " +
                          proc.stdout.strip()[:200])

        def result(n):
            def read(ext):
                with open(os.path.join(out, "%d.%s" % (n, ext))) as f:
                    return f.read()
            return int(read("rc")), read("stdout"), read("stderr")

        code, first, stderr = result(0)
        self.assertEqual((code, stderr), (0, ""))
        code, hit, stderr = result(1)
        self.assertEqual((code, hit, stderr), (0, first, ""))
        code, refreshed, stderr = result(2)
        self.assertEqual(code, 0, stderr)
        self.assertNotEqual(refreshed, first)
        self.assertIn("the token was not cached", stderr)
        self.assertIn("free some disk space", stderr)
        code, fetched, stderr = result(3)
        self.assertEqual(code, 0, stderr)
        self.assertTrue(fetched.strip())
        self.assertIn("warning:", stderr)
        for n in range(4):
            self.assertNoSecrets("".join(map(str, result(n)[2:])))

    def test_a_deleted_key_file_invalidates_the_cache_but_keeps_the_profile(self):
        self.configure("lab")
        token = self.run_helper("--profile", "lab", "token", check=True).stdout
        os.remove(os.path.join(self.paths()["data"], "key"))
        self.server.reset_counters()

        proc = self.run_helper("--profile", "lab", "token", check=3)
        self.assertEqual(proc.stdout, "")  # never the token sealed with the lost key
        self.assertNotIn(token.strip(), proc.stderr)
        self.assertIn('stored client secret of profile "lab" cannot be decrypted', proc.stderr)
        self.assertIn("iotspot-helper configure --profile lab --client-id " + self.client_id,
                      proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

        # The profile is still configured, and status says what is wrong with it.
        status = json.loads(self.run_helper("status", "--json", check=True).stdout)
        (lab,) = [p for p in status["profiles"] if p["name"] == "lab"]
        self.assertEqual((lab["client_id"], lab["secret"]), (self.client_id, "unreadable"))

        # Doing what the message says fixes it.
        self.run_helper("configure", "--profile", "lab", "--client-id", self.client_id,
                        "--client-secret-stdin", input=self.client_secret + "\n", check=True)
        fixed = self.run_helper("--profile", "lab", "token", check=True)
        self.assertNotEqual(fixed.stdout, token)
        self.assertEqual(self.server.token_requests, 1)

    def set_user_version(self, path: str, version: int) -> None:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = %d" % version)
        db.close()

    def user_version(self, path: str) -> int:
        with sqlite3.connect(path) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        db.close()
        return version

    def test_a_token_cache_of_a_newer_schema_is_refused_not_destroyed(self):
        self.configure()
        self.run_helper("token", check=True)
        tokens_db = os.path.join(self.paths()["cache"], "tokens.db")
        self.set_user_version(tokens_db, 99)
        with open(tokens_db, "rb") as f:
            before = f.read()

        proc = self.run_helper("token", check=6)
        self.assertEqual(proc.stdout, "")
        self.assertIn("written by a newer iotspot-helper", proc.stderr)
        self.assertIn(tokens_db, proc.stderr)
        with open(tokens_db, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.user_version(tokens_db), 99)

    def test_a_secret_store_of_a_newer_schema_is_refused_not_destroyed(self):
        self.configure()
        secrets_db = os.path.join(self.paths()["data"], "secrets.db")
        self.set_user_version(secrets_db, 99)
        proc = self.run_helper("token", check=6)
        self.assertIn("written by a newer iotspot-helper", proc.stderr)
        self.assertEqual(self.user_version(secrets_db), 99)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_damaged_cache_is_moved_aside_and_rebuilt(self):
        self.configure()
        cache = self.paths()["cache"]
        os.makedirs(cache, 0o700)
        with open(os.path.join(cache, "tokens.db"), "wb") as f:
            f.write(b"this is not a database, " * 200)
        proc = self.run_helper("token", check=True)
        self.assertIn("damaged", proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(cache, "tokens.db.damaged")))
        self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 1)


class DamagedStoreTest(StoreTestCase):
    """A damaged cache, found at any point, is moved aside and rebuilt; a damaged secret
    store is exit 6 with its remedy. Never "internal error"."""

    @staticmethod
    def corrupt(path: str, start: int) -> None:
        """Overwrites the file from byte `start` on with garbage; the SQLite header (the first
        100 bytes) stays valid when start >= 100."""
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.seek(start)
            f.write(random.Random(start).randbytes(size - start))

    def cached_token_then_corrupt(self, start: int) -> str:
        self.configure()
        self.run_helper("token", check=True)
        tokens_db = os.path.join(self.paths()["cache"], "tokens.db")
        self.corrupt(tokens_db, start)
        self.server.reset_counters()
        return tokens_db

    def assertNoInternalError(self, proc):  # noqa: N802
        self.assertNotIn("internal error", proc.stderr)
        self.assertNotIn("please report", proc.stderr)

    def test_corrupt_pages_behind_a_valid_header_are_rebuilt_by_every_command(self):
        for start in (100, 4096):
            for command in (["token"], ["status"], ["logout"], ["token", "--min-ttl", "60"]):
                with self.subTest(start=start, command=command):
                    self.setUp()
                    tokens_db = self.cached_token_then_corrupt(start)
                    proc = self.run_helper(*command, check=True)
                    self.assertNoInternalError(proc)
                    self.assertIn("token cache %s is damaged" % tokens_db, proc.stderr)
                    self.assertIn("moved it to %s.damaged and started a new cache" % tokens_db,
                                  proc.stderr)
                    self.assertTrue(os.path.isfile(tokens_db + ".damaged"))
                    # The new cache works: one token request, then cache hits.
                    first = self.run_helper("token", check=True)
                    self.assertEqual(self.run_helper("token", check=True).stdout, first.stdout)
                    self.assertEqual(self.server.token_requests, 1)
                    self.assertEqual(self.run_helper("status", check=True).stderr, "")

    def test_a_damaged_cache_that_cannot_be_moved_aside_is_said_so_and_bypassed(self):
        tokens_db = self.cached_token_then_corrupt(100)
        os.makedirs(tokens_db + ".damaged/in-the-way")
        for _ in range(2):
            proc = self.run_helper("token", check=True)
            self.assertNoInternalError(proc)
            self.assertTrue(proc.stdout.strip())
            self.assertIn("cannot move it aside to %s.damaged" % tokens_db, proc.stderr)
            self.assertIn("continuing without the token cache", proc.stderr)
            self.assertNotIn("moved it to", proc.stderr)
        self.assertEqual(self.server.token_requests, 2)
        for command in ("status", "logout"):
            proc = self.run_helper(command, check=True)
            self.assertNoInternalError(proc)
            self.assertIn("cannot move it aside", proc.stderr)

    def test_a_damaged_cache_in_a_read_only_directory_is_said_so_and_bypassed(self):
        tokens_db = self.cached_token_then_corrupt(100)
        self.make_read_only(self.paths()["cache"])
        proc = self.run_helper("token", check=True)
        self.assertNoInternalError(proc)
        self.assertTrue(proc.stdout.strip())
        self.assertIn("cannot move it aside to %s.damaged" % tokens_db, proc.stderr)
        self.assertNotIn("moved it to", proc.stderr)
        self.assertFalse(os.path.exists(tokens_db + ".damaged"))

    def test_a_foreign_table_at_our_schema_version_is_moved_aside(self):
        self.configure()
        cache = self.paths()["cache"]
        os.makedirs(cache, 0o700)
        tokens_db = os.path.join(cache, "tokens.db")
        with sqlite3.connect(tokens_db) as db:
            db.execute("CREATE TABLE tokens (name TEXT)")
            db.execute("PRAGMA user_version = 1")
        db.close()
        os.chmod(tokens_db, 0o600)
        proc = self.run_helper("token", check=True)
        self.assertNoInternalError(proc)
        self.assertNotIn("no such column", proc.stderr.split(" (")[0])
        self.assertIn("does not hold iotspot-helper's tables", proc.stderr)
        self.assertIn("moved it to %s.damaged" % tokens_db, proc.stderr)
        self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 1)

    def test_a_damaged_secret_store_is_exit_6_with_the_remedy(self):
        self.configure()
        secrets_db = os.path.join(self.paths()["data"], "secrets.db")
        self.corrupt(secrets_db, 100)
        proc = self.run_helper("token", check=6)
        self.assertNoInternalError(proc)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("secret store %s is damaged" % secrets_db, proc.stderr)
        self.assertIn("move it away and run iotspot-helper configure again", proc.stderr)
        self.assertEqual(self.server.token_requests, 0)


class RedirectedFileTest(StoreTestCase):
    """The config, key, lock and SQLite files are never opened through a link, and anything
    but a regular file in their place is refused at once: exit 6, one line naming it."""

    def other_database(self) -> str:
        """Another application's SQLite file; returns its path."""
        other = os.path.join(self.home, "other.db")
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
            db.execute("INSERT INTO notes VALUES ('keep me')")
        db.close()
        return other

    @staticmethod
    def contents(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def assertRefused(self, proc, path: str, kind: str):  # noqa: N802
        self.assertEqual(proc.stdout, "")
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("%s is %s" % (path, kind), proc.stderr)
        self.assertNotIn("internal error", proc.stderr)
        self.assertNoSecrets(proc.stderr)

    def test_a_token_cache_linked_to_another_database_is_refused_and_left_alone(self):
        self.configure()
        other = self.other_database()
        before = self.contents(other)
        cache = self.paths()["cache"]
        os.makedirs(cache, 0o700)
        tokens_db = os.path.join(cache, "tokens.db")
        os.symlink(other, tokens_db)
        proc = self.run_helper("token", check=6)
        self.assertRefused(proc, tokens_db, "a symbolic link")
        self.assertEqual(self.contents(other), before)
        self.assertFalse(os.path.exists(other + "-wal"))
        self.assertEqual(self.server.token_requests, 0)

    def test_a_secret_store_linked_to_another_database_is_refused_and_left_alone(self):
        other = self.other_database()
        before = self.contents(other)
        data = self.paths()["data"]
        os.makedirs(data, 0o700)
        secrets_db = os.path.join(data, "secrets.db")
        os.symlink(other, secrets_db)
        proc = self.run_helper("configure", "--client-id", self.client_id,
                               "--client-secret-stdin", input=self.client_secret + "\n",
                               check=6)
        self.assertRefused(proc, secrets_db, "a symbolic link")
        self.assertEqual(self.contents(other), before)

    def test_a_linked_write_ahead_log_is_refused_and_its_target_left_alone(self):
        self.configure()
        self.run_helper("token", check=True)
        target = os.path.join(self.home, "elsewhere")
        with open(target, "wb") as f:
            f.write(b"not yours")
        for name in ("tokens.db-wal", "tokens.db-shm"):
            with self.subTest(name=name):
                path = os.path.join(self.paths()["cache"], name)
                os.replace(path, path + ".kept")
                os.symlink(target, path)
                proc = self.run_helper("token", check=6)
                self.assertRefused(proc, path, "a symbolic link")
                self.assertEqual(self.contents(target), b"not yours")
                os.replace(path + ".kept", path)
        self.run_helper("token", check=True)

    def test_a_dangling_link_creates_nothing_at_its_target(self):
        self.configure()
        cache = self.paths()["cache"]
        os.makedirs(cache, 0o700)
        target = os.path.join(self.home, "planted.db")
        tokens_db = os.path.join(cache, "tokens.db")
        os.symlink(target, tokens_db)
        proc = self.run_helper("token", check=6)
        self.assertRefused(proc, tokens_db, "a symbolic link")
        self.assertEqual([n for n in os.listdir(self.home) if n.startswith("planted")], [])

    def test_a_linked_lock_file_is_refused_and_nothing_created_at_its_target(self):
        self.configure()
        os.makedirs(self.paths()["cache"], 0o700)
        locks = os.path.join(self.paths()["cache"], "locks")
        os.mkdir(locks, 0o700)
        target = os.path.join(self.home, "planted.lock")
        lock = os.path.join(locks, "default.lock")
        os.symlink(target, lock)
        proc = self.run_helper("token", check=6)
        self.assertRefused(proc, lock, "a symbolic link")
        self.assertFalse(os.path.lexists(target))

    def test_a_dangling_key_link_says_what_is_wrong_not_try_again(self):
        data = self.paths()["data"]
        os.makedirs(data, 0o700)
        key = os.path.join(data, "key")
        os.symlink(os.path.join(self.home, "gone"), key)
        for _ in range(2):
            proc = self.run_helper("configure", "--client-id", self.client_id,
                                   "--client-secret-stdin", input=self.client_secret + "\n",
                                   check=6)
            self.assertRefused(proc, key, "a symbolic link")
            self.assertIn("replace the link with the file itself, or remove it", proc.stderr)
            self.assertNotIn("try again", proc.stderr)
        self.assertFalse(os.path.lexists(os.path.join(self.home, "gone")))

    def test_a_fifo_in_place_of_the_key_file_fails_at_once(self):
        self.configure()
        key = os.path.join(self.paths()["data"], "key")
        os.remove(key)
        os.mkfifo(key, 0o600)
        proc = self.run_helper("token", timeout=20, check=6)
        self.assertRefused(proc, key, "a FIFO")

    def test_a_fifo_in_place_of_the_config_file_fails_at_once(self):
        self.configure()
        config = self.paths()["config"]
        os.remove(config)
        os.mkfifo(config, 0o600)
        proc = self.run_helper("token", timeout=20, check=6)
        self.assertRefused(proc, config, "a FIFO")

    def test_a_directory_in_place_of_the_token_cache_is_refused(self):
        self.configure()
        os.makedirs(self.paths()["cache"], 0o700)
        tokens_db = os.path.join(self.paths()["cache"], "tokens.db")
        os.mkdir(tokens_db, 0o700)
        proc = self.run_helper("token", check=6)
        self.assertRefused(proc, tokens_db, "a directory")

    def test_directories_reached_through_links_still_work(self):
        real = os.path.join(self.home, "real-cache")
        os.mkdir(real, 0o700)
        linked = os.path.join(self.home, "linked-cache")
        os.symlink(real, linked)
        env = self.env(XDG_CACHE_HOME=linked)
        self.configure(env=env)
        first = self.run_helper("token", env=env, check=True)
        self.assertEqual(first.stderr, "")
        self.assertEqual(self.run_helper("token", env=env, check=True).stdout, first.stdout)
        self.assertEqual(self.server.token_requests, 1)
        self.assertTrue(os.path.isfile(os.path.join(real, "iotspot-helper", "tokens.db")))


class SecretsAtRestTest(FaultTestCase):
    """No secret at rest by accident: no core file, no peeking by other processes of the
    same user, and exec's command never gets the client secret."""

    # Root passes every ptrace check by its capabilities; without them (an empty bounding
    # set) root is an ordinary user, as the helper's users are.
    NO_CAPS = ["setpriv", "--bounding-set=-all"] if os.geteuid() == 0 else []

    def test_a_fetching_helper_has_no_core_limit_and_hides_its_memory(self):
        if self.NO_CAPS and shutil.which("setpriv") is None:
            self.skipTest("setpriv is needed to drop root's capabilities")
        self.server.set(delay=3)
        env = self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_CLIENT_SECRET=self.client_secret,
                       IOTSPOT_TOKEN_URL=self.server.token_url, IOTSPOT_CA_FILE=self.pki.ca_cert)
        helper = subprocess.Popen(self.NO_CAPS + [self.bin, "token"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, cwd=self.home)
        self.addCleanup(helper.wait)
        self.addCleanup(helper.kill)
        deadline = time.monotonic() + 20
        while self.server.token_requests == 0:  # it holds the secret now
            self.assertIsNone(helper.poll())
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        with open("/proc/%d/limits" % helper.pid) as f:
            (core,) = [line for line in f if line.startswith("Max core file size")]
        self.assertEqual(core.split()[4], "0", core)  # the soft limit
        peek = subprocess.run(self.NO_CAPS + [sys.executable, "-c",
                                              "import sys; open(sys.argv[1], 'rb').read()",
                                              "/proc/%d/environ" % helper.pid],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30)
        self.assertIsNone(helper.poll())  # still running: the read was refused, not late
        self.assertNotEqual(peek.returncode, 0, "another process read the helper's environment")
        # The kernel refuses with EACCES at open, or ESRCH at read (no mm for the reader).
        self.assertRegex(peek.stderr, r"PermissionError|ProcessLookupError")
        out, err = helper.communicate(timeout=30)
        self.assertEqual(helper.returncode, 0, self.redact(err))

    def test_exec_does_not_pass_the_client_secret_on(self):
        env = self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_CLIENT_SECRET=self.client_secret,
                       IOTSPOT_TOKEN_URL=self.server.token_url, IOTSPOT_CA_FILE=self.pki.ca_cert)
        proc = self.run_helper("exec", "--", "env", env=env, check=True)
        names = [line.split("=", 1)[0] for line in proc.stdout.splitlines()]
        self.assertIn("IOTSPOT_ACCESS_TOKEN", names)
        self.assertIn("IOTSPOT_CLIENT_ID", names)
        self.assertNotIn("IOTSPOT_CLIENT_SECRET", names)
        self.assertNotIn(self.client_secret, proc.stdout)

    def test_execs_command_gets_the_users_core_limit_back(self):
        self.configure()
        env = self.env()
        # AddressSanitizer sets the core limit to 0 itself unless told not to.
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":disable_coredump=0").lstrip(":")
        proc = subprocess.run(["sh", "-c", 'ulimit -c 1024 && exec "$0" exec -- sh -c "ulimit -c"',
                               self.bin], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=self.home,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(proc.stdout.strip(), "1024")


class MisleadingMessageTest(StoreTestCase):
    """Messages say what is wrong, without echoing what could drive the terminal or leak."""

    def write_config(self, text: str) -> str:
        config = self.paths()["config"]
        os.makedirs(os.path.dirname(config), 0o700, exist_ok=True)
        with open(config, "w") as f:
            f.write(text)
        os.chmod(config, 0o600)
        return config

    def test_config_errors_escape_control_characters(self):
        self.write_config('[profile "default"]\nclient_id = abc\n\x1b[2Jevil\x07 = 1\n')
        proc = self.run_helper("token", check=3)
        self.assertNotIn("\x1b", proc.stderr)
        self.assertNotIn("\x07", proc.stderr)
        self.assertIn('unknown key "\\x1b[2Jevil\\x07"', proc.stderr)
        self.assertIn("line 3", proc.stderr)

    def test_config_errors_escape_c1_controls_and_bytes_that_are_not_utf8(self):
        # U+009B is CSI to a terminal that takes 8-bit controls, like ESC [ to any terminal.
        self.write_config('[profile "default"]\nclient_id = abc\n\u009b2Jcaf\u00e9 = 1\n')
        proc = self.run_helper("token", check=3)
        self.assertNotIn("\u009b", proc.stderr)
        self.assertIn('unknown key "\\xc2\\x9b2Jcaf\u00e9"', proc.stderr)

    def test_a_profile_name_with_control_characters_is_escaped(self):
        proc = self.run_helper("--profile", "bad\x1b]0;title\x07", "token", check=2)
        self.assertNotIn("\x1b", proc.stderr)
        self.assertIn("\\x1b]0;title\\x07", proc.stderr)

    def test_a_token_url_with_a_password_is_refused_and_never_printed(self):
        url = "https://user:hunter2-password@127.0.0.1:1/oauth2/token"
        proc = self.run_helper("configure", "--client-id", self.client_id, "--token-url", url,
                               "--client-secret-stdin", input=self.client_secret + "\n",
                               check=2)
        self.assertIn("token_url must not contain a user name or password", proc.stderr)
        self.assertNotIn("hunter2", proc.stderr)

        self.configure()
        for env in (self.env(IOTSPOT_TOKEN_URL=url),):
            proc = self.run_helper("--verbose", "token", env=env, check=3)
            self.assertIn("must not contain a user name or password", proc.stderr)
            self.assertNotIn("hunter2", proc.stderr + proc.stdout)
        config = self.paths()["config"]
        with open(config) as f:
            text = f.read()
        with open(config, "w") as f:
            f.write(text.replace(self.server.token_url, url))
        for command in (["--verbose", "token"], ["status"], ["status", "--json"]):
            proc = self.run_helper(*command)
            self.assertNotIn("hunter2", proc.stderr + proc.stdout)
        self.assertEqual(self.server.token_requests, 0)


if __name__ == "__main__":
    unittest.main()
