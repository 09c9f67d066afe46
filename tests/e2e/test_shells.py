"""End-to-end tests of the shell integrations, in the real shells: `iotspot-helper env` in
bash, dash, zsh and fish (PowerShell's output is checked as text: pwsh is not in Debian), the
prompt hooks of plugins/shell/ in interactive bash, zsh and fish on a pseudo-terminal.
Tab completion is tested in test_completion.py.

In the prompt-hook tests `iotspot-helper` on PATH is a wrapper that appends its arguments to
a file and execs the real binary, so the tests count exactly how often a prompt ran the
helper. Each interactive shell reads its own rc file (~/.bashrc, ~/.zshrc,
~/.config/fish/config.fish in the test's HOME) that sources the plugin as a user would, then
leaves only the wrapper's directory on PATH: an external command run by a prompt would fail
with "not found".
"""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import time
import unittest

from support.harness import HelperTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.normpath(os.path.join(HERE, "..", "..", "plugins", "shell"))
PLUGIN = {shell: os.path.join(PLUGINS, "iotspot." + shell) for shell in ("bash", "zsh", "fish")}
HOOK_SHELLS = ("bash", "zsh", "fish")
ODD_TOKEN = "~/a+b.c_d-e~=="  # a legal bearer token that breaks if it is not quoted
STRACE = shutil.which("strace")

HELPER_WRAPPER = """#!/bin/sh
echo "$*" >>'{calls}'
exec '{real}' "$@"
"""

RC_FILES = {
    "bash": (".bashrc", "PS1='$ '\nsource '{plugin}'\nPATH='{bindir}'\n"),
    "zsh": (".zshrc", "PS1='$ '\nsource '{plugin}'\nPATH='{bindir}'\n"),
    "fish": (".config/fish/config.fish",
             "set -g fish_greeting\nfunction fish_prompt; echo -n '$ '; end\n"
             "source '{plugin}'\nset -gx PATH '{bindir}'\n"),
}
SHELL_ARGV = {"bash": ["bash", "--noprofile", "-i"], "zsh": ["zsh", "-i"], "fish": ["fish", "-i"]}


def set_variable(shell, name, value):
    if shell == "fish":
        return "set -gx %s '%s'" % (name, value)
    return "export %s='%s'" % (name, value)


class InteractiveShell:
    """An interactive shell on a pseudo-terminal, typed into line by line.

    Every line typed is followed by `printf 'step%s\\n' N`, and run() waits for "stepN" in the
    output, so each line is one prompt and the next line is typed only after it ran."""

    def __init__(self, test, argv, env):
        self.test = test
        self.output = b""
        self.steps = 0
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        # setsid -c makes the terminal the shell's controlling terminal, as in a terminal window.
        self.proc = subprocess.Popen(["setsid", "-w", "-c", *argv], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, cwd=env["HOME"], close_fds=True)
        os.close(slave)
        self.master = master
        test.addCleanup(self._cleanup)

    def _cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def _read_until(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self.test.fail("the shell did not print %r; it printed:\n%s"
                               % (needle, self.test.redact(self.text())))
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            if not data:
                self.test.fail("the shell ended before printing %r; it printed:\n%s"
                               % (needle, self.test.redact(self.text())))
            self.output += data

    def type(self, keys):
        os.write(self.master, keys.encode("utf-8"))

    def run(self, line="true"):
        """Types `line`, then waits until it ran; returns what the terminal showed meanwhile."""
        self.steps += 1
        start = len(self.output)
        self.type("%s; printf 'step%%s\\n' %d\n" % (line, self.steps))
        self._read_until(b"step%d\r\n" % self.steps)
        return self.output[start:].decode("utf-8", errors="replace")

    def finish(self):
        """Types exit and waits for the shell to end; returns everything it showed."""
        start = len(self.output)
        self.type("exit\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    break
                self.output += data
            elif self.proc.poll() is not None:
                break
        self.proc.wait(30)
        return self.output[start:].decode("utf-8", errors="replace")

    def text(self):
        return self.output.decode("utf-8", errors="replace")


class ShellTestCase(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.bindir = os.path.join(self.home, "bin")
        os.mkdir(self.bindir)
        self.calls_file = os.path.join(self.home, "helper-calls")
        wrapper = os.path.join(self.bindir, "iotspot-helper")
        with open(wrapper, "w") as f:
            f.write(HELPER_WRAPPER.format(calls=self.calls_file, real=self.bin))
        os.chmod(wrapper, 0o755)
        self.result_file = os.path.join(self.home, "result")

    def calls(self):
        """The argument lists the helper was run with, one string each."""
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as f:
            return f.read().splitlines()

    def shell_env(self, **extra):
        return self.env(TERM="dumb", **extra)

    def start(self, shell, env=None, prefix=()):
        name, text = RC_FILES[shell]
        path = os.path.join(self.home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if shell == "fish":  # else fish's first prompt runs mkdir to create them
            for name in ("completions", "conf.d", "functions"):
                os.makedirs(os.path.join(self.home, ".config/fish", name), exist_ok=True)
        with open(path, "w") as f:
            f.write(text.format(plugin=PLUGIN[shell], bindir=self.bindir))
        return InteractiveShell(self, [*prefix, *SHELL_ARGV[shell]], env or self.shell_env())

    def save_variables(self, session):
        """Has the shell write its two variables to a file; returns what the terminal showed."""
        return session.run("""printf '%s\\n' "$IOTSPOT_ACCESS_TOKEN" "$IOTSPOT_TOKEN_EXPIRES_AT" >"$HOME/result\"""")

    def saved_variables(self):
        with open(self.result_file) as f:
            token, expires = f.read().split("\n")[:2]
        os.remove(self.result_file)
        return token, expires

    def current_env(self, **args):
        """IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT as `iotspot-helper env` sets them."""
        proc = self.run_helper("env", *args, check=True)
        values = dict(re.findall(r"export (\w+)='([^']*)';", proc.stdout))
        return values["IOTSPOT_ACCESS_TOKEN"], values["IOTSPOT_TOKEN_EXPIRES_AT"]

    def assertQuietPrompts(self, shown):  # noqa: N802
        self.assertNoSecrets(shown)
        self.assertNotIn("iotspot:", shown)
        self.assertNotIn("not found", shown)
        self.assertNotIn("Unknown command", shown)
        self.assertNotIn("rror", shown)


class EnvInShellsTest(ShellTestCase):
    """`iotspot-helper env` as the help text and docs/integrations.md show it."""

    def use_token_script(self):
        # The variable, not the command line, carries the token to curl (-H @- from a pipe).
        return ('printf "Authorization: Bearer %%s\\n" "$IOTSPOT_ACCESS_TOKEN" | '
                "curl -sS --fail --cacert '%s' -H @- '%s'"
                % (self.pki.ca_cert, self.server.api_url.rstrip("/") + "/v1/ping"))

    def test_eval_quoted_and_unquoted_in_bash_dash_and_zsh_then_call_the_api(self):
        self.configure()
        for shell in ("bash", "dash", "zsh"):
            for form in ('eval "$(iotspot-helper env)"', "eval $(iotspot-helper env)",
                         'eval "$(iotspot-helper env --shell %s)"' % shell):
                with self.subTest(shell=shell, form=form):
                    script = form + "\n" + self.use_token_script()
                    proc = subprocess.run([shell, "-c", script], capture_output=True, text=True,
                                          timeout=60, env=self.env(PATH=self.bindir + ":" + os.environ["PATH"]))
                    self.assertNoSecrets(proc.stderr)
                    self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
                    self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual(self.server.token_requests, 1)

    def test_fish_sources_its_format_then_calls_the_api(self):
        self.configure()
        script = "iotspot-helper env --shell fish | source\n" + self.use_token_script()
        proc = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True,
                              timeout=60, env=self.env(PATH=self.bindir + ":" + os.environ["PATH"]))
        self.assertNoSecrets(proc.stderr)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})

    def test_every_shell_gets_a_token_with_shell_characters_exactly(self):
        self.configure()
        self.server.script([{"body": json.dumps(
            {"access_token": ODD_TOKEN, "expires_in": 3600, "token_type": "Bearer"})}])
        self.run_helper("token", check=True)  # cached from now on
        show = 'printf "%s|%s" "$IOTSPOT_ACCESS_TOKEN" "$IOTSPOT_TOKEN_EXPIRES_AT"'
        cases = [(shell, form % shell) for shell in ("bash", "dash", "zsh")
                 for form in ('eval "$(iotspot-helper env --shell %s)"',
                              "eval $(iotspot-helper env --shell %s)")]
        cases.append(("fish", "iotspot-helper env --shell fish | source"))
        env = self.env(PATH=self.bindir + ":" + os.environ["PATH"])
        for shell, line in cases:
            with self.subTest(shell=shell, line=line):
                argv = [shell, "--no-config", "-c"] if shell == "fish" else [shell, "-c"]
                proc = subprocess.run(argv + [line + "\n" + show], capture_output=True, text=True,
                                      timeout=60, env=env)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                token, expires = proc.stdout.split("|")
                self.assertEqual(token, ODD_TOKEN)
                self.assertAlmostEqual(int(expires), time.time() + 3600, delta=60)

    def test_powershell_text(self):
        self.configure()
        token, expires = self.current_env()
        for name in ("powershell", "pwsh"):
            with self.subTest(shell=name):
                proc = self.run_helper("env", "--shell", name, check=True)
                self.assertEqual(proc.stdout,
                                 "$env:IOTSPOT_ACCESS_TOKEN = '%s';\n"
                                 "$env:IOTSPOT_TOKEN_EXPIRES_AT = '%s';\n" % (token, expires))
        self.assertEqual(self.server.token_requests, 1)

    def test_an_unknown_shell_is_a_usage_error(self):
        self.configure()
        proc = self.run_helper("env", "--shell", "cmd", check=2)
        self.assertIn("fish", proc.stderr)
        self.assertEqual(proc.stdout, "")


class PromptHookTest(ShellTestCase):
    """The hook of plugins/shell/iotspot.{bash,zsh,fish} in a real interactive shell."""

    def for_each_shell(self, check):
        """Runs check(shell) for bash, zsh and fish, each from a clean HOME and server."""
        for shell in HOOK_SHELLS:
            with self.subTest(shell=shell):
                if os.path.exists(self.calls_file):
                    os.remove(self.calls_file)
                for name in (".config/iotspot-helper", ".cache/iotspot-helper",
                             ".local/share/iotspot-helper"):
                    shutil.rmtree(os.path.join(self.home, name), ignore_errors=True)
                self.server.reset()
                self.server.set(expires_in=3600, delay=0)
                self.server.script([])
                check(shell)

    def test_the_first_prompt_gets_a_token_and_fresh_prompts_run_nothing(self):
        self.for_each_shell(self.check_the_first_prompt_gets_a_token_and_fresh_prompts_run_nothing)

    def check_the_first_prompt_gets_a_token_and_fresh_prompts_run_nothing(self, shell):
        self.configure()
        session = self.start(shell)
        shown = "".join(session.run() for _ in range(5))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertQuietPrompts(shown)
        self.assertEqual(self.calls(), ["--profile default env --shell %s" % shell])
        token, expires = self.saved_variables()
        self.assertEqual(token, self.server.issued_tokens[0])
        self.assertEqual(self.api_get(token)[0], 200)
        self.assertAlmostEqual(int(expires), time.time() + 3600, delta=60)

    def test_a_fresh_inherited_token_runs_no_helper_at_all(self):
        self.for_each_shell(self.check_a_fresh_inherited_token_runs_no_helper_at_all)

    def check_a_fresh_inherited_token_runs_no_helper_at_all(self, shell):
        self.configure()
        token, expires = self.current_env()
        session = self.start(shell, self.shell_env(IOTSPOT_ACCESS_TOKEN=token,
                                                   IOTSPOT_TOKEN_EXPIRES_AT=expires))
        shown = "".join(session.run() for _ in range(4))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertQuietPrompts(shown)
        self.assertEqual(self.calls(), [])
        self.assertEqual(self.saved_variables(), (token, expires))

    def test_a_token_near_expiry_is_refreshed_once(self):
        self.for_each_shell(self.check_a_token_near_expiry_is_refreshed_once)

    def check_a_token_near_expiry_is_refreshed_once(self, shell):
        self.configure()
        old, _ = self.current_env()
        self.run_helper("logout", check=True)  # the cache has nothing fresher either
        near = str(int(time.time()) + 120)     # inside the 300 s margin
        session = self.start(shell, self.shell_env(IOTSPOT_ACCESS_TOKEN=old,
                                                   IOTSPOT_TOKEN_EXPIRES_AT=near))
        shown = "".join(session.run() for _ in range(4))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertQuietPrompts(shown)
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(self.server.token_requests, 2)
        token, expires = self.saved_variables()
        self.assertEqual(token, self.server.issued_tokens[1])
        self.assertNotEqual(token, old)
        self.assertAlmostEqual(int(expires), time.time() + 3600, delta=60)

    def test_short_lived_tokens_do_not_run_the_helper_at_every_prompt(self):
        self.for_each_shell(self.check_short_lived_tokens_do_not_run_the_helper_at_every_prompt)

    def check_short_lived_tokens_do_not_run_the_helper_at_every_prompt(self, shell):
        # 200 s tokens are always inside the 300 s margin; the helper hands the cached one out
        # until half its life is gone, so the hook asks again only later.
        self.server.set(expires_in=200)
        self.configure()
        session = self.start(shell)
        shown = "".join(session.run() for _ in range(5))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertQuietPrompts(shown)
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(self.saved_variables()[0], self.server.issued_tokens[0])

    def test_a_larger_margin_from_iotspot_shell_margin(self):
        self.for_each_shell(self.check_a_larger_margin_from_iotspot_shell_margin)

    def check_a_larger_margin_from_iotspot_shell_margin(self, shell):
        self.configure()
        token, expires = self.current_env()
        # A token with an hour left is "near expiry" with a margin of two hours.
        env = self.shell_env(IOTSPOT_ACCESS_TOKEN=token, IOTSPOT_TOKEN_EXPIRES_AT=expires,
                             IOTSPOT_SHELL_MARGIN="7200")
        session = self.start(shell, env)
        shown = "".join(session.run() for _ in range(3))
        shown += session.finish()
        self.assertQuietPrompts(shown)
        # One call: the helper's cache answers with the same token, and the hook backs off.
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(self.server.token_requests, 1)

    def test_a_failing_helper_warns_once_keeps_the_token_and_backs_off(self):
        self.for_each_shell(self.check_a_failing_helper_warns_once_keeps_the_token_and_backs_off)

    def check_a_failing_helper_warns_once_keeps_the_token_and_backs_off(self, shell):
        self.configure()
        old, _ = self.current_env()
        self.run_helper("logout", check=True)
        near = str(int(time.time()) + 120)
        env = self.shell_env(IOTSPOT_ACCESS_TOKEN=old, IOTSPOT_TOKEN_EXPIRES_AT=near,
                             IOTSPOT_TOKEN_URL="https://127.0.0.1:1/oauth2/token")
        session = self.start(shell, env)
        shown = "".join(session.run() for _ in range(4))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertNoSecrets(shown)
        warnings = [line for line in shown.splitlines() if "iotspot:" in line]
        self.assertEqual(len(warnings), 1, self.redact(shown))
        self.assertIn("IOTSPOT_ACCESS_TOKEN not refreshed", warnings[0])
        self.assertIn("127.0.0.1", warnings[0])
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(self.saved_variables(), (old, near))
        self.assertEqual(self.server.token_requests, 1)

    def test_an_unconfigured_helper_costs_one_call_and_one_line(self):
        self.for_each_shell(self.check_an_unconfigured_helper_costs_one_call_and_one_line)

    def check_an_unconfigured_helper_costs_one_call_and_one_line(self, shell):
        session = self.start(shell)
        shown = "".join(session.run() for _ in range(4))
        shown += self.save_variables(session)
        shown += session.finish()
        warnings = [line for line in shown.splitlines() if "iotspot:" in line]
        self.assertEqual(len(warnings), 1, shown)
        self.assertIn("not configured", warnings[0])
        self.assertIn("iotspot-helper configure", warnings[0])
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(self.saved_variables(), ("", ""))

    def test_the_same_failure_is_reported_once_however_often_it_is_retried(self):
        self.for_each_shell(self.check_the_same_failure_is_reported_once)

    def check_the_same_failure_is_reported_once(self, shell):
        # IOTSPOT_SHELL_RETRY=0: no back-off, the helper runs at every prompt.
        session = self.start(shell, self.shell_env(IOTSPOT_SHELL_RETRY="0"))
        shown = "".join(session.run() for _ in range(4))
        shown += session.finish()
        warnings = [line for line in shown.splitlines() if "iotspot:" in line]
        self.assertEqual(len(warnings), 1, shown)
        self.assertGreaterEqual(len(self.calls()), 5)

    def test_a_missing_helper_is_named_with_the_fix(self):
        self.for_each_shell(self.check_a_missing_helper_is_named_with_the_fix)

    def check_a_missing_helper_is_named_with_the_fix(self, shell):
        session = self.start(shell, self.shell_env(IOTSPOT_HELPER="no-such-iotspot-helper"))
        shown = "".join(session.run() for _ in range(3))
        shown += session.finish()
        warnings = [line for line in shown.splitlines() if "iotspot:" in line]
        self.assertEqual(len(warnings), 1, shown)
        self.assertIn("no-such-iotspot-helper not found", warnings[0])
        self.assertIn("IOTSPOT_HELPER", warnings[0])

    def test_the_profile_follows_iotspot_profile(self):
        self.for_each_shell(self.check_the_profile_follows_iotspot_profile)

    def check_the_profile_follows_iotspot_profile(self, shell):
        other = self.start_server()
        self.configure()
        self.configure("staging", server=other)
        session = self.start(shell)
        shown = session.run()
        shown += session.run(set_variable(shell, "IOTSPOT_PROFILE", "staging"))
        shown += "".join(session.run() for _ in range(3))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertQuietPrompts(shown)
        self.assertEqual(self.calls(), ["--profile default env --shell %s" % shell,
                                        "--profile staging env --shell %s" % shell])
        self.assertEqual(self.saved_variables()[0], other.issued_tokens[0])
        self.assertEqual(self.api_get(other.issued_tokens[0], server=other)[0], 200)

    def test_switching_to_a_broken_profile_drops_the_other_profiles_token(self):
        self.for_each_shell(self.check_switching_to_a_broken_profile_drops_the_other_profiles_token)

    def check_switching_to_a_broken_profile_drops_the_other_profiles_token(self, shell):
        self.configure()
        session = self.start(shell)
        shown = session.run()
        shown += session.run(set_variable(shell, "IOTSPOT_PROFILE", "nowhere"))
        shown += self.save_variables(session)
        shown += session.finish()
        self.assertIn('profile "nowhere" is not configured', shown)
        self.assertEqual(self.saved_variables(), ("", ""))

    @unittest.skipUnless(STRACE, "strace is not installed")
    def test_a_prompt_with_a_fresh_token_starts_no_process(self):
        if subprocess.run([STRACE, "-o", os.devnull, "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        self.for_each_shell(self.check_a_prompt_with_a_fresh_token_starts_no_process)

    def check_a_prompt_with_a_fresh_token_starts_no_process(self, shell):
        # The shell's own system calls (not its children's) between two marker paths it
        # stats: three prompts with a fresh token must not fork, clone a process or exec.
        self.configure()
        log = os.path.join(self.home, "strace.log")
        session = self.start(shell, prefix=[STRACE, "-qq", "-o", log, "-e",
                                            "trace=execve,fork,vfork,clone,clone3,stat,lstat,newfstatat,statx,"
                                            "access,faccessat,faccessat2"])
        session.run()  # the first prompt got the token
        session.run("test -e /iotspot-marker-1")
        for _ in range(3):
            session.run()
        session.run("test -e /iotspot-marker-2")
        session.finish()
        with open(log) as f:
            trace = f.read()
        os.remove(log)
        self.assertEqual(len(self.calls()), 1)
        self.assertIn("/iotspot-marker-2", trace)
        window = trace[trace.index("/iotspot-marker-1"):trace.index("/iotspot-marker-2")]
        started = [line for line in window.splitlines()
                   if re.match(r"(execve|fork|vfork|clone3?)\(", line)
                   and "CLONE_THREAD" not in line]
        self.assertEqual(started, [])
        # The same trace shows the helper being started for the first prompt.
        self.assertRegex(trace[:trace.index("/iotspot-marker-1")], r"(?m)^(clone3?|v?fork)\(")
