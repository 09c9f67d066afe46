"""Tokens kept fresh for long-running consumers: `sink FILE`, `exec --keep-fresh`, and
secrets read from files (IOTSPOT_CLIENT_SECRET_FILE, $CREDENTIALS_DIRECTORY).

The token server issues tokens of a few seconds, so a refresh comes every second or two
(the margin is half the lifetime for so short a token) and the tests take seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from typing import Callable, List, Optional

from support.harness import HelperTestCase
from support.redis_server import RedisServer, installed_servers
from support.token_server import TokenServer

LIFETIME = 4  # seconds: a refresh every LIFETIME / 2
TOKEN_LINE = re.compile(r"[A-Za-z0-9._~+/-]+=*\n\Z")


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Polls `condition` (the test's own check, not the helper's) until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def read_or_none(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def cpu_seconds(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc/%d/status" % pid)


class KeepFreshBase(HelperTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server.set(expires_in=LIFETIME)

    def spawn(self, *args: str, env: Optional[dict] = None,
              stdout: Optional[int] = None) -> subprocess.Popen:
        """Starts the helper in the background; stderr goes to a file (self.stderr_text())."""
        self.stderr_path = os.path.join(self.home, "stderr-%d" % len(os.listdir(self.home)))
        err = open(self.stderr_path, "w")
        self.addCleanup(err.close)
        proc = subprocess.Popen(
            [self.bin, *args], stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=err,
            text=True, env=env or self.env(), cwd=self.home, start_new_session=True)
        self.addCleanup(self.end, proc)
        return proc

    @staticmethod
    def end(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()

    def stderr_text(self) -> str:
        with open(self.stderr_path) as f:
            return f.read()

    def assert_valid(self, token: str, server: Optional[TokenServer] = None) -> None:
        status, body = self.api_get(token.strip(), server=server)
        self.assertEqual(status, 200, body)


class SinkTest(KeepFreshBase):
    def test_the_file_holds_a_valid_token_with_the_mode_asked_for_and_is_refreshed(self):
        self.configure()
        path = os.path.join(self.home, "run", "api.token")
        proc = self.spawn("sink", "--mode", "0640", path)
        first = wait_for(lambda: read_or_none(path), 20, "the token file")
        self.assertRegex(first, TOKEN_LINE)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        self.assert_valid(first)
        second = wait_for(lambda: (read_or_none(path) or first) != first and read_or_none(path),
                          3 * LIFETIME, "a refreshed token")
        self.assert_valid(second)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        self.assertFalse(os.path.exists(path), "SIGTERM leaves the file behind")
        self.assertEqual(os.listdir(os.path.dirname(path)), [], "a temporary file is left")
        self.assertNoSecrets(self.stderr_text())

    def test_the_default_mode_is_0600_and_keep_leaves_the_file(self):
        self.configure()
        path = os.path.join(self.home, "api.token")
        proc = self.spawn("sink", "--keep", path)
        wait_for(lambda: read_or_none(path), 20, "the token file")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(10), 0)
        self.assertRegex(read_or_none(path) or "", TOKEN_LINE)

    def test_once_writes_the_file_and_exits(self):
        self.configure()
        path = os.path.join(self.home, "api.token")
        proc = self.run_helper("sink", "--once", path, check=True)
        self.assertEqual((proc.stdout, proc.stderr), ("", ""))
        self.assert_valid(read_or_none(path) or "")
        self.assertEqual(self.server.token_requests, 1)

    def test_a_mode_others_could_read_is_a_usage_error(self):
        for mode in ("0644", "0660", "0700", "rw", "01640"):
            proc = self.run_helper("sink", "--mode", mode, os.path.join(self.home, "t"), check=2)
            self.assertIn("--mode", proc.stderr)

    def test_a_link_fifo_or_directory_at_file_is_refused_and_nothing_written_through_it(self):
        self.configure()
        target = os.path.join(self.home, "target")
        link = os.path.join(self.home, "link.token")
        os.symlink(target, link)
        fifo = os.path.join(self.home, "fifo.token")
        os.mkfifo(fifo, 0o600)
        directory = os.path.join(self.home, "dir.token")
        os.mkdir(directory)
        for path, kind in ((link, "symbolic link"), (fifo, "FIFO"), (directory, "directory")):
            with self.subTest(kind):
                proc = self.run_helper("sink", path, timeout=30, check=6)
                self.assertIn(path, proc.stderr)
                self.assertIn(kind, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertFalse(os.path.lexists(target), "the link's target was created")
        self.assertTrue(os.path.islink(link))
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        self.assertEqual(os.listdir(directory), [])

    def test_a_link_put_in_place_of_the_file_while_it_runs_stops_it_and_is_not_followed(self):
        self.server.set(expires_in=2)  # a refresh every second
        self.configure()
        path = os.path.join(self.home, "api.token")
        target = os.path.join(self.home, "target")
        proc = self.spawn("sink", path)
        wait_for(lambda: read_or_none(path), 20, "the token file")
        os.unlink(path)
        os.symlink(target, path)
        self.assertEqual(proc.wait(20), 6)
        self.assertIn(path, self.stderr_text())
        self.assertIn("symbolic link", self.stderr_text())
        self.assertFalse(os.path.lexists(target))
        self.assertTrue(os.path.islink(path))

    def test_a_reader_looping_on_the_file_never_sees_it_empty_or_partial(self):
        self.server.set(expires_in=2)  # a new token every second
        self.configure()
        path = os.path.join(self.home, "api.token")
        self.spawn("sink", path)
        wait_for(lambda: read_or_none(path), 20, "the token file")
        reads, seen, bad = 0, set(), []
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline or reads < 5000:
            with open(path) as f:
                text = f.read()
            reads += 1
            if not TOKEN_LINE.match(text) or text.strip() not in self.server.all_issued_tokens:
                bad.append(text)
            seen.add(text)
        self.assertEqual(bad[:3], [], "%d of %d reads saw a bad file" % (len(bad), reads))
        self.assertGreaterEqual(len(seen), 3, "the file was not refreshed while read")

    def test_with_the_server_down_the_file_keeps_the_last_token_and_refresh_resumes(self):
        server = self.start_server(expires_in=LIFETIME)
        self.configure(server=server)
        path = os.path.join(self.home, "api.token")
        self.spawn("sink", path, env=self.env(IOTSPOT_TIMEOUT=2))
        last = wait_for(lambda: read_or_none(path), 20, "the token file")
        port = server.port
        server.stop()
        # Past the token's life and several retries: the file still holds the last token.
        deadline = time.monotonic() + LIFETIME + 2
        while time.monotonic() < deadline:
            self.assertEqual(read_or_none(path), last)
            time.sleep(0.05)
        self.assertEqual(self.stderr_text().count("warning:"), 1, self.stderr_text())
        self.assertIn("keeps the last token", self.stderr_text())
        back = TokenServer(self.pki.server_cert, self.pki.server_key,
                           {self.client_id: self.client_secret}, expires_in=LIFETIME,
                           port=port).start()
        self.addCleanup(back.stop)
        fresh = wait_for(lambda: read_or_none(path) != last and read_or_none(path), 20,
                         "a token from the server that came back")
        self.assert_valid(fresh, server=back)
        wait_for(lambda: "works again" in self.stderr_text(), 5, "the recovery line")
        self.assertEqual(self.stderr_text().count("\n"), 2, self.stderr_text())
        self.assertNoSecrets(self.stderr_text())

    def test_waiting_costs_next_to_no_cpu_and_no_wakeups(self):
        self.server.set(expires_in=3600)
        self.configure()
        path = os.path.join(self.home, "api.token")
        proc = self.spawn("sink", path)
        wait_for(lambda: read_or_none(path), 20, "the token file")
        time.sleep(0.5)
        cpu, switches = cpu_seconds(proc.pid), context_switches(proc.pid)
        time.sleep(8)
        used = cpu_seconds(proc.pid) - cpu
        woke = context_switches(proc.pid) - switches
        # A generous bound: a sleeping process uses none; a loop polling every 10 ms, more.
        self.assertLess(used, 0.05, "the sink used %.3f s of CPU in 8 s of waiting" % used)
        self.assertLessEqual(woke, 2, "the sink woke %d times while it had nothing to do" % woke)
        self.assertEqual(self.server.token_requests, 1)


CHILD_READS_TWICE = textwrap.dedent("""\
    import os, sys, time
    path = os.environ["IOTSPOT_ACCESS_TOKEN_FILE"]
    first = open(path).read().strip()
    assert first == os.environ["IOTSPOT_ACCESS_TOKEN"], "the variable is not the file's token"
    print(first, flush=True)
    time.sleep(float(sys.argv[1]))
    print(open(path).read().strip(), flush=True)
    print(path, flush=True)
""")


class ExecKeepFreshTest(KeepFreshBase):
    def child(self, script: str, *args: str) -> List[str]:
        return [sys.executable, "-c", script, *args]

    def test_a_child_sees_a_fresh_token_past_two_lifetimes_one_request_per_refresh(self):
        self.configure()
        started = time.monotonic()
        proc = self.spawn("exec", "--keep-fresh", "--",
                          *self.child(CHILD_READS_TWICE, str(2 * LIFETIME + 1)),
                          stdout=subprocess.PIPE)
        first = proc.stdout.readline().strip()
        self.assert_valid(first)
        second = proc.stdout.readline().strip()
        elapsed = time.monotonic() - started
        self.assert_valid(second)
        path = proc.stdout.readline().strip()
        self.assertNotEqual(first, second)
        self.assertEqual(proc.wait(10), 0, self.stderr_text())
        # One request at the start and one per refresh (every LIFETIME / 2), no more.
        requests = self.server.token_requests
        self.assertEqual(requests, len(set(self.server.issued_tokens)))
        self.assertGreaterEqual(requests, 3)
        self.assertLessEqual(requests, elapsed / (LIFETIME / 2) + 2)
        self.assertFalse(os.path.exists(path), "the token file outlived the helper")
        self.assertFalse(os.path.exists(os.path.dirname(path)), "its directory too")
        self.assertNoSecrets(self.stderr_text())

    def test_the_file_is_private_and_under_xdg_runtime_dir(self):
        self.configure()
        runtime = os.path.join(self.home, "runtime")
        os.mkdir(runtime, 0o700)
        script = ("import os, stat; p = os.environ['IOTSPOT_ACCESS_TOKEN_FILE']; "
                  "print(p, oct(stat.S_IMODE(os.stat(p).st_mode)), "
                  "oct(stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode)))")
        proc = self.run_helper("exec", "--keep-fresh", "--", sys.executable, "-c", script,
                               env=self.env(XDG_RUNTIME_DIR=runtime), check=True)
        path, mode, dir_mode = proc.stdout.split()
        self.assertTrue(path.startswith(runtime + "/"), path)
        self.assertEqual((mode, dir_mode), ("0o600", "0o700"))
        self.assertEqual(os.listdir(runtime), [])

    def test_signal_mode_sends_the_signal_after_each_refresh(self):
        self.configure()
        script = textwrap.dedent("""\
            import os, signal, time
            path = os.environ["IOTSPOT_ACCESS_TOKEN_FILE"]
            seen = [os.environ["IOTSPOT_ACCESS_TOKEN"]]
            signal.signal(signal.SIGUSR1, lambda *_: seen.append(open(path).read().strip()))
            deadline = time.monotonic() + 30
            while len(seen) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            print("\\n".join(seen))
        """)
        proc = self.run_helper("exec", "--keep-fresh", "--on-refresh", "signal:USR1", "--",
                               sys.executable, "-c", script, check=True)
        tokens = proc.stdout.split()
        self.assertEqual(len(tokens), 3, proc.stdout)
        self.assertEqual(len(set(tokens)), 3, "a signal came without a new token")
        self.assertEqual(tokens, self.server.issued_tokens[:3])

    def test_restart_mode_restarts_the_child_with_fresh_variables(self):
        self.configure()
        log = os.path.join(self.home, "starts")
        script = ("import os, time; open(%r, 'a').write(os.environ['IOTSPOT_ACCESS_TOKEN'] + "
                  "'\\n'); time.sleep(60)" % log)
        proc = self.spawn("exec", "--keep-fresh", "--on-refresh", "restart", "--",
                          sys.executable, "-c", script)
        wait_for(lambda: (read_or_none(log) or "").count("\n") >= 3, 6 * LIFETIME,
                 "three starts of the child")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(15), 128 + signal.SIGTERM)
        starts = (read_or_none(log) or "").split()
        self.assertEqual(len(set(starts)), len(starts), "a restart without a fresh token")
        self.assertEqual(starts[:3], self.server.issued_tokens[:3])

    def test_signals_reach_the_child_and_the_exit_status_is_the_childs(self):
        self.configure()
        script = textwrap.dedent("""\
            import os, signal, sys, time
            names = ("INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "TERM")
            def got(number, _frame):
                # os.write, not print: the next signal may come while print still holds
                # stdout's buffer (the test sends it once it has read this line).
                os.write(1, (signal.Signals(number).name + "\\n").encode())
                if number == signal.SIGTERM:
                    sys.exit(42)
            for name in names:
                signal.signal(getattr(signal, "SIG" + name), got)
            print("ready", flush=True)
            while True:
                time.sleep(1)
        """)
        proc = self.spawn("exec", "--keep-fresh", "--", sys.executable, "-c", script,
                          stdout=subprocess.PIPE)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        for name in ("INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "TERM"):
            proc.send_signal(getattr(signal, "SIG" + name))
            self.assertEqual(proc.stdout.readline().strip(), "SIG" + name, self.stderr_text())
        self.assertEqual(proc.wait(10), 42)

    def test_a_child_killed_by_a_signal_gives_128_plus_n(self):
        self.configure()
        proc = self.run_helper("exec", "--keep-fresh", "--", "sh", "-c", "kill -KILL $$")
        self.assertEqual(proc.returncode, 128 + signal.SIGKILL)
        proc = self.run_helper("exec", "--keep-fresh", "--", "sh", "-c", "exit 7")
        self.assertEqual(proc.returncode, 7)
        proc = self.run_helper("exec", "--keep-fresh", "--", "no-such-command-here")
        self.assertEqual(proc.returncode, 127)
        self.assertIn("no-such-command-here", proc.stderr)

    def test_the_child_gets_no_secret_variable_and_no_descriptor_of_the_helper(self):
        secret_file = os.path.join(self.home, "secret")
        with open(secret_file, "w") as f:
            f.write(self.client_secret + "\n")
        script = textwrap.dedent("""\
            import os
            print(" ".join(sorted(n for n in os.environ if "SECRET" in n or "PASSWORD" in n)))
            targets = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    targets.append(os.readlink("/proc/self/fd/" + fd) if int(fd) > 2 else "")
                except FileNotFoundError:
                    pass  # the listing's own descriptor, closed by now
            print(" ".join(target for target in targets if target))
        """)
        env = self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_TOKEN_URL=self.server.token_url,
                       IOTSPOT_CA_FILE=self.pki.ca_cert, IOTSPOT_CLIENT_SECRET_FILE=secret_file,
                       IOTSPOT_REDIS_PASSWORD="not-a-real-password")
        for keep_fresh in (["--keep-fresh"], []):
            with self.subTest(keep_fresh=keep_fresh):
                proc = self.run_helper("exec", *keep_fresh, "--", sys.executable, "-c", script,
                                       env=env, check=True)
                self.assertEqual(proc.stdout, "\n\n")
                self.assertNoSecrets(proc.stderr)
        env["IOTSPOT_CLIENT_SECRET"] = env.pop("IOTSPOT_CLIENT_SECRET_FILE")
        env["IOTSPOT_CLIENT_SECRET"] = self.client_secret
        proc = self.run_helper("exec", "--keep-fresh", "--", sys.executable, "-c", script,
                               env=env, check=True)
        self.assertEqual(proc.stdout, "\n\n")

    def test_on_refresh_without_keep_fresh_is_a_usage_error(self):
        proc = self.run_helper("exec", "--on-refresh", "restart", "--", "true", check=2)
        self.assertIn("--keep-fresh", proc.stderr)
        proc = self.run_helper("exec", "--keep-fresh", "--on-refresh", "signal:NOPE", "--",
                               "true", check=2)
        self.assertIn("signal:NAME", proc.stderr)
        proc = self.run_helper("exec", "--keep-fresh", "--min-ttl", "60", "--", "true", check=2)
        self.assertIn("--refresh-margin", proc.stderr)

    def test_as_pid_1_in_a_pid_namespace_orphans_are_reaped(self):
        unshare = shutil.which("unshare")
        if unshare is None or os.geteuid() != 0:
            self.skipTest("needs unshare (util-linux) and root for a PID namespace")
        self.configure()
        script = textwrap.dedent("""\
            import os, subprocess, time
            print(os.getppid())
            # sh starts sleep and exits: sleep is orphaned, and its parent becomes PID 1.
            orphan = int(subprocess.run(["sh", "-c", "sleep 0.3 & echo $!"],
                                        capture_output=True, text=True).stdout)
            time.sleep(1.5)
            print(os.path.exists("/proc/%d" % orphan))
            zombies = []
            for entry in os.listdir("/proc"):
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                            zombies.append(entry)
                except OSError:
                    pass
            print(len(zombies))
        """)
        proc = subprocess.run(
            [unshare, "--pid", "--fork", "--mount-proc", self.bin, "exec", "--keep-fresh", "--",
             sys.executable, "-c", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=self.env(), cwd=self.home, timeout=60)
        if proc.returncode != 0 and "unshare" in proc.stderr:
            self.skipTest("no PID namespace here: " + proc.stderr.strip())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["1", "False", "0"])


SYSTEMD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugins",
                           "systemd")


class SinkUnitTest(KeepFreshBase):
    """plugins/systemd/iotspot-helper-sink@.service: verified by systemd, its command run."""

    def unit_text(self) -> str:
        with open(os.path.join(SYSTEMD_DIR, "iotspot-helper-sink@.service.in")) as f:
            return f.read().replace("@IOTSPOT_HELPER_BINDIR@", os.path.dirname(self.bin))

    def test_the_unit_passes_systemd_analyze_verify_with_an_encrypted_credential(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed (Debian package systemd; "
                          "scripts/bootstrap.sh installs it)")
        units = os.path.join(self.home, "units")
        runtime = os.path.join(self.home, "runtime")
        os.makedirs(os.path.join(units, "iotspot-helper-sink@.service.d"))
        os.mkdir(runtime, 0o700)
        with open(os.path.join(units, "iotspot-helper-sink@.service"), "w") as f:
            f.write(self.unit_text())
        # The drop-in of docs/unattended.md.
        with open(os.path.join(units, "iotspot-helper-sink@.service.d", "credential.conf"),
                  "w") as f:
            f.write("[Service]\nLoadCredentialEncrypted=iotspot-client-secret:"
                    "%E/iotspot-helper/client-secret.cred\n")
        proc = subprocess.run(
            [analyze, "--user", "verify", os.path.join(units, "iotspot-helper-sink@default.service")],
            env={"HOME": self.home, "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": runtime,
                 "SYSTEMD_LOG_LEVEL": "warning"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=60)
        self.assertEqual((proc.returncode, proc.stdout.strip()), (0, ""), proc.stdout)

    def test_the_units_command_keeps_the_profiles_file_in_the_runtime_directory(self):
        (exec_start,) = [line.split("=", 1)[1] for line in self.unit_text().splitlines()
                         if line.startswith("ExecStart=")]
        runtime = os.path.join(self.home, "runtime")
        os.mkdir(runtime, 0o700)
        self.configure("default")
        words = exec_start.replace("%i", "default").replace("%t", runtime).split()
        proc = subprocess.Popen(words, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.addCleanup(self.end, proc)
        path = os.path.join(runtime, "iotspot-helper", "default.token")
        self.assert_valid(wait_for(lambda: read_or_none(path), 20, "the token file") or "")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        self.assertEqual((proc.returncode, out, err), (0, "", ""))
        self.assertFalse(os.path.exists(path))


class SecretFilesTest(KeepFreshBase):
    def environment(self, **extra: object) -> dict:
        return self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_TOKEN_URL=self.server.token_url,
                        IOTSPOT_CA_FILE=self.pki.ca_cert, **extra)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_the_secret_from_a_file_named_by_a_variable(self):
        path = self.write("secret", self.client_secret + "\n")
        proc = self.run_helper("token", env=self.environment(IOTSPOT_CLIENT_SECRET_FILE=path),
                               check=True)
        self.assert_valid(proc.stdout)

    def test_the_secret_from_systemds_credentials_directory(self):
        credentials = os.path.join(self.home, "credentials")
        os.mkdir(credentials, 0o700)
        self.write("credentials/iotspot-client-secret", self.client_secret)
        proc = self.run_helper("token", env=self.environment(CREDENTIALS_DIRECTORY=credentials),
                               check=True)
        self.assert_valid(proc.stdout)
        proc = self.run_helper("status", env=self.environment(CREDENTIALS_DIRECTORY=credentials),
                               check=True)
        self.assertIn("credential", proc.stdout)

    def test_precedence_variable_then_file_then_credentials_then_stored(self):
        good = self.write("good", self.client_secret + "\n")
        bad = self.write("bad", "wrong-secret\n")
        credentials = os.path.join(self.home, "credentials")
        os.mkdir(credentials, 0o700)
        self.write("credentials/iotspot-client-secret", "wrong-too")
        def token(env: dict, check: object) -> None:
            self.run_helper("token", env=env, check=check)
            self.run_helper("logout", env=env, check=True)  # no cached token for the next

        # The variable wins over the file, the file over the credential.
        token(self.environment(IOTSPOT_CLIENT_SECRET="wrong", IOTSPOT_CLIENT_SECRET_FILE=good),
              4)
        token(self.environment(IOTSPOT_CLIENT_SECRET_FILE=good,
                               CREDENTIALS_DIRECTORY=credentials), True)
        token(self.environment(IOTSPOT_CLIENT_SECRET_FILE=bad), 4)
        # The credential wins over the stored secret; without one, the stored secret is used.
        self.configure()
        token(self.env(CREDENTIALS_DIRECTORY=credentials), 4)
        os.unlink(os.path.join(credentials, "iotspot-client-secret"))
        token(self.env(CREDENTIALS_DIRECTORY=credentials), True)

    def test_a_missing_file_fifo_or_directory_is_one_clear_line_and_never_hangs(self):
        fifo = os.path.join(self.home, "fifo")
        os.mkfifo(fifo, 0o600)
        cases = ((os.path.join(self.home, "missing"), "cannot be opened"), (fifo, "is a FIFO"),
                 (self.home, "is a directory"), ("/dev/zero", "is a device"),
                 (self.write("empty", "\n"), "is empty"),
                 (self.write("huge", "x" * 20000), "larger than"))
        for path, problem in cases:
            with self.subTest(problem):
                proc = self.run_helper("token", timeout=20,
                                       env=self.environment(IOTSPOT_CLIENT_SECRET_FILE=path),
                                       check=3)
                self.assertIn(path, proc.stderr)
                self.assertIn(problem, proc.stderr)
                self.assertIn("IOTSPOT_CLIENT_SECRET_FILE", proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertEqual(proc.stdout, "")
        self.assertEqual(self.server.token_requests, 0)


class RedisPasswordFileTest(KeepFreshBase):
    """IOTSPOT_REDIS_PASSWORD_FILE and $CREDENTIALS_DIRECTORY/iotspot-redis-password give the
    shared cache its password (a real Redis or Valkey with an ACL user)."""

    def test_the_password_from_a_file_and_from_the_credentials_directory(self):
        programs = installed_servers()
        if not programs:
            self.skipTest("no redis-server or valkey-server (scripts/bootstrap.sh --test)")
        redis = RedisServer(programs[0], os.path.join(self.home, "redis")).start()
        self.addCleanup(redis.kill)
        credentials = os.path.join(self.home, "credentials")
        os.mkdir(credentials, 0o700)
        with open(os.path.join(credentials, "iotspot-redis-password"), "w") as f:
            f.write(redis.helper_password + "\n")
        with open(os.path.join(self.home, "client-secret"), "w") as f:
            f.write(self.client_secret + "\n")
        base = dict(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_TOKEN_URL=self.server.token_url,
                    IOTSPOT_CA_FILE=self.pki.ca_cert, IOTSPOT_SHARED_CACHE=redis.url,
                    IOTSPOT_CLIENT_SECRET_FILE=os.path.join(self.home, "client-secret"))
        for where in ({"IOTSPOT_REDIS_PASSWORD_FILE":
                       os.path.join(credentials, "iotspot-redis-password")},
                      {"CREDENTIALS_DIRECTORY": credentials}):
            with self.subTest(where=list(where)):
                redis.command("FLUSHALL")
                env = self.env(**base, **where)
                proc = self.run_helper("token", env=env, check=True)
                self.assertEqual(proc.stderr, "")  # no warning: Redis took the password
                tokens = [key for key, _ in redis.keys_and_values() if key.endswith(b":token")]
                self.assertEqual(len(tokens), 1)
                self.run_helper("logout", env=env, check=True)


if __name__ == "__main__":
    import unittest
    unittest.main()
