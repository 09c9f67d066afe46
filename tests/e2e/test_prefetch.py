"""iotspot-helper prefetch: refreshing tokens ahead of time for cron and systemd timers.

Run:  cd tests/e2e && IOTSPOT_HELPER_BIN=... /usr/bin/python3 -m unittest -v test_prefetch
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.harness import HelperTestCase  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYSTEMD_DIR = os.path.join(REPO, "plugins", "systemd")
CRON_DIR = os.path.join(REPO, "plugins", "cron")
FAILURE_LINE = re.compile(r'^iotspot-helper: prefetch: profile "([^"]+)": (.+)$')


def failure_lines(stderr: str) -> dict:
    """{profile: message} of the per-profile failure lines on stderr."""
    found = {}
    for line in stderr.splitlines():
        match = FAILURE_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


class PrefetchTest(HelperTestCase):

    def start_helper(self, *args, env=None) -> subprocess.Popen:
        return subprocess.Popen([self.bin, *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env or self.env(), cwd=self.home)

    def configure_many(self, count: int) -> list:
        names = ["p%02d" % i for i in range(count)]
        for name in names:
            self.configure(name)
        return names

    def test_refreshes_twenty_profiles_concurrently_over_kept_alive_connections(self):
        names = self.configure_many(20)
        self.server.reset_counters()
        self.server.set(delay=0.5)
        connections_before = self.server.connections_accepted

        proc = self.run_helper("prefetch", "--all", check=True)

        self.assertEqual(self.server.token_requests, 20)
        # The server holds each answer 0.5 s: requests that arrive within 0.5 s of each other
        # were in flight together, which a loop of one request at a time never does. The 8
        # workers all get there once their first handshakes are done, however slow the machine.
        arrivals = sorted(entry["received_at"] for entry in self.server.token_request_log)
        in_flight = max(sum(1 for other in arrivals if start <= other < start + 0.5)
                        for start in arrivals)
        self.assertGreaterEqual(in_flight, 4, arrivals)
        # Each of the (at most 8) workers keeps its TLS connection for its next profile.
        self.assertLessEqual(self.server.connections_accepted - connections_before, 8)
        lines = proc.stdout.splitlines()
        self.assertEqual(len(lines), 20, proc.stdout)
        for name, line in zip(names, lines):
            self.assertRegex(line, r'^profile "%s": refreshed, expires \S+Z \(in ' % name)
        self.assertEqual(proc.stderr, "")
        self.assertNoSecrets(proc.stdout + proc.stderr)

    def test_one_worker_reuses_one_connection_for_every_profile_on_the_host(self):
        self.configure_many(3)
        self.server.reset_counters()
        connections_before = self.server.connections_accepted
        self.run_helper("prefetch", "--all", "--jobs", "1", check=True)
        self.assertEqual(self.server.token_requests, 3)
        self.assertEqual(self.server.connections_accepted - connections_before, 1)

    def test_a_kept_alive_connection_the_server_closed_is_replaced_transparently(self):
        self.configure_many(3)
        self.server.reset_counters()
        connections_before = self.server.connections_accepted
        # The first answer is followed by the server closing its (idle) connection.
        self.server.script([{"close": True}])
        proc = self.run_helper("prefetch", "--all", "--jobs", "1", check=True)
        self.assertEqual(proc.stderr, "")
        self.assertEqual(proc.stdout.count("refreshed"), 3)
        self.assertEqual(self.server.token_requests, 3)
        self.assertEqual(self.server.connections_accepted - connections_before, 2)

    def test_a_second_run_keeps_fresh_tokens_and_callers_hit_the_cache(self):
        names = self.configure_many(3)
        self.run_helper("prefetch", "--all", check=True)
        self.server.reset_counters()

        again = self.run_helper("prefetch", "--all", check=True)
        self.assertEqual(self.server.token_requests, 0)
        for line in again.stdout.splitlines():
            self.assertRegex(line, r'^profile "p\d\d": still fresh, expires ')
        tokens = set()
        for name in names:
            tokens.add(self.run_helper("--profile", name, "token", check=True).stdout)
        self.assertEqual(self.server.token_requests, 0)
        self.assertEqual(len(tokens), 3)

    def test_min_ttl_decides_which_tokens_are_refreshed(self):
        self.configure()
        self.server.set(expires_in=900)
        self.run_helper("prefetch", check=True)
        self.server.reset_counters()
        self.server.set(expires_in=3600)

        # 900 s left is more than the default, twice the 300 s refresh margin.
        kept = self.run_helper("prefetch", check=True)
        self.assertEqual(self.server.token_requests, 0)
        self.assertIn("still fresh", kept.stdout)

        refreshed = self.run_helper("prefetch", "--min-ttl", "1200", check=True)
        self.assertEqual(self.server.token_requests, 1)
        self.assertIn("refreshed", refreshed.stdout)
        self.assertEqual(refreshed.stderr, "")

    def test_quiet_success_prints_nothing(self):
        self.configure_many(2)
        proc = self.run_helper("prefetch", "--all", "--quiet", check=True)
        self.assertEqual((proc.stdout, proc.stderr), ("", ""))
        self.assertEqual(self.server.token_requests, 2)

    def test_without_profile_options_the_profile_in_force_is_refreshed(self):
        self.configure("default")
        self.configure("lab")
        self.server.reset_counters()
        proc = self.run_helper("prefetch", env=self.env(IOTSPOT_PROFILE="lab"), check=True)
        self.assertEqual(proc.stdout.count("\n"), 1)
        self.assertTrue(proc.stdout.startswith('profile "lab": refreshed'), proc.stdout)
        self.assertEqual(self.server.token_requests, 1)

    def test_repeated_profile_options_choose_the_profiles(self):
        self.configure_many(3)
        self.server.reset_counters()
        proc = self.run_helper("prefetch", "--profile", "p02", "--profile", "p00",
                               "--profile", "p02", check=True)
        self.assertEqual([line.split('"')[1] for line in proc.stdout.splitlines()],
                         ["p02", "p00"])
        self.assertEqual(self.server.token_requests, 2)

    def test_overlapping_runs_and_callers_make_one_request_per_profile(self):
        names = self.configure_many(5)
        self.server.reset_counters()
        # Slow answers, so that the second run and the callers arrive while the first run is
        # still waiting for them.
        self.server.set(delay=0.5)
        procs = [self.start_helper("prefetch", "--all", "--quiet") for _ in range(2)]
        procs += [self.start_helper("--profile", name, "token") for name in names[:3]]
        procs.append(self.start_helper("prefetch", "--all", "--quiet", "--jobs", "2"))
        results = [(p.wait(timeout=60), *p.communicate()) for p in procs]

        for code, stdout, stderr in results:
            self.assertEqual(code, 0, self.redact(stderr))
            self.assertEqual(stderr, "")
        self.assertEqual(self.server.token_requests, 5)

    def test_a_failed_profile_is_one_line_on_stderr_and_exit_1(self):
        self.configure("good")
        self.configure("bad", secret="not-the-secret")
        proc = self.run_helper("prefetch", "--all", check=1)
        self.assertEqual(list(failure_lines(proc.stderr)), ["bad"])
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("invalid_client", proc.stderr)
        self.assertTrue(proc.stdout.startswith('profile "good": refreshed'), proc.stdout)
        self.assertNotIn("bad", proc.stdout)

        quiet = self.run_helper("prefetch", "--all", "--quiet", check=1)
        self.assertEqual(quiet.stdout, "")
        self.assertEqual(list(failure_lines(quiet.stderr)), ["bad"])

    def test_when_every_profile_fails_the_exit_status_is_the_failure(self):
        self.configure("a", secret="wrong-1")
        self.configure("b", secret="wrong-2")
        proc = self.run_helper("prefetch", "--all", "--quiet", check=4)
        self.assertEqual(sorted(failure_lines(proc.stderr)), ["a", "b"])

        # Different failures: the lowest of their codes (3, not configured; 4, rejected).
        mixed = self.run_helper("prefetch", "--profile", "a", "--profile", "nowhere", check=3)
        lines = failure_lines(mixed.stderr)
        self.assertIn("not configured", lines["nowhere"])
        self.assertIn("invalid_client", lines["a"])

    def test_a_failed_refresh_is_a_failure_even_while_the_cached_token_is_valid(self):
        self.configure()
        token = self.run_helper("token", check=True).stdout
        self.server.script([{"status": 503}] * 10)
        proc = self.run_helper("prefetch", "--min-ttl", "3600", env=self.env(IOTSPOT_TIMEOUT=2),
                               check=5)
        message = failure_lines(proc.stderr)["default"]
        self.assertIn("HTTP 503", message)
        self.assertIn("the cached token stays in use until", message)
        # Interactive callers still get the cached token.
        self.server.clear_script()
        self.assertEqual(self.run_helper("token", check=True).stdout, token)

    def test_works_in_crons_bare_environment_without_stdin_or_terminal(self):
        self.configure()
        self.server.reset_counters()
        proc = subprocess.run(
            [self.bin, "prefetch", "--all", "--quiet"],
            env={"HOME": self.home, "PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd="/", timeout=60, start_new_session=True,
            preexec_fn=lambda: os.close(0))
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.server.token_requests, 1)
        self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 1)

    def test_usage_errors(self):
        self.configure()
        for args in (["--all", "--profile", "default"], ["--jobs", "0"], ["--jobs", "65"],
                     ["--jobs", "many"], ["--min-ttl", "-1"]):
            proc = self.run_helper("prefetch", *args, check=2)
            self.assertEqual(proc.stdout, "")
        self.assertEqual(self.server.token_requests, 0)

    def test_all_without_any_profile_is_not_configured(self):
        proc = self.run_helper("prefetch", "--all", check=3)
        self.assertIn("iotspot-helper configure", proc.stderr)


class ShippedCommandLinesTest(HelperTestCase):
    """The crontab line and the service's ExecStart, run the way cron and systemd run them:
    a shell or no shell, HOME and a minimal PATH, no standard input, no terminal."""

    def run_bare(self, command: str) -> subprocess.CompletedProcess:
        command = command.strip().replace("@IOTSPOT_HELPER_BINDIR@", os.path.dirname(self.bin))
        self.configure("one")
        self.configure("two")
        self.server.reset_counters()
        return subprocess.run(["/bin/sh", "-c", command],
                              env={"HOME": self.home, "PATH": "/usr/bin:/bin",
                                   "SHELL": "/bin/sh"},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60,
                              start_new_session=True)

    def test_the_crontab_line_runs_silently_in_crons_environment(self):
        with open(os.path.join(CRON_DIR, "iotspot-helper.crontab.in")) as f:
            entries = [line for line in f if line.strip() and not line.startswith("#")]
        self.assertEqual(len(entries), 1, entries)
        fields = entries[0].split(None, 5)
        self.assertEqual(fields[:5], ["*/15", "*", "*", "*", "*"])
        proc = self.run_bare(fields[5])
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.server.token_requests, 2)

    def test_the_services_command_runs_silently(self):
        with open(os.path.join(SYSTEMD_DIR, "iotspot-helper-prefetch.service.in")) as f:
            (exec_start,) = [line.split("=", 1)[1] for line in f
                             if line.startswith("ExecStart=")]
        proc = self.run_bare(exec_start)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.server.token_requests, 2)


class SystemdUnitsTest(unittest.TestCase):
    """plugins/systemd: the user services and the timer pass systemd-analyze verify."""

    def test_units_pass_systemd_analyze_verify(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed (Debian package systemd; "
                          "scripts/bootstrap.sh installs it)")
        helper = os.environ.get("IOTSPOT_HELPER_BIN")
        if not helper:
            raise RuntimeError("IOTSPOT_HELPER_BIN is not set")
        tmp = tempfile.mkdtemp(prefix="iotspot-systemd-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        units = os.path.join(tmp, "units")
        runtime = os.path.join(tmp, "runtime")
        os.mkdir(units)
        os.mkdir(runtime, 0o700)
        for name in ("iotspot-helper-prefetch.service", "iotspot-helper-serve.service"):
            with open(os.path.join(SYSTEMD_DIR, name + ".in")) as f:
                text = f.read().replace("@IOTSPOT_HELPER_BINDIR@",
                                        os.path.dirname(os.path.abspath(helper)))
            self.assertNotIn("@", text)
            with open(os.path.join(units, name), "w") as f:
                f.write(text)
        with open(os.path.join(units, "iotspot-helper-prefetch.service")) as f:
            service = f.read()
        with open(os.path.join(units, "iotspot-helper-serve.service")) as f:
            self.assertRegex(f.read(), r"(?m)^ExecStart=/\S+/iotspot-helper serve$")
        shutil.copy(os.path.join(SYSTEMD_DIR, "iotspot-helper-prefetch.timer"), units)

        # The unit runs prefetch for every profile, quietly, as a oneshot service.
        self.assertRegex(service, r"(?m)^Type=oneshot$")
        self.assertRegex(service, r"(?m)^ExecStart=/\S+/iotspot-helper prefetch --all --quiet")
        with open(os.path.join(units, "iotspot-helper-prefetch.timer")) as f:
            timer = f.read()
        self.assertRegex(timer, r"(?m)^Persistent=true$")
        self.assertRegex(timer, r"(?m)^WantedBy=timers.target$")

        # A user manager needs XDG_RUNTIME_DIR; verify also checks that ExecStart exists.
        proc = subprocess.run(
            [analyze, "--user", "verify",
             os.path.join(units, "iotspot-helper-prefetch.service"),
             os.path.join(units, "iotspot-helper-prefetch.timer"),
             os.path.join(units, "iotspot-helper-serve.service")],
            env={"HOME": tmp, "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": runtime,
                 "SYSTEMD_LOG_LEVEL": "warning"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(proc.stdout.strip(), "", "systemd-analyze complained:\n" + proc.stdout)


if __name__ == "__main__":
    unittest.main()
