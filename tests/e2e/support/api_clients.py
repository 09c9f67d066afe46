"""What the API-client shim tests (test_postman, test_bruno, test_insomnia, test_httpie) share.

``ApiClientTestCase`` is a ``HelperTestCase`` that can also

- start ``iotspot-helper serve --port <free port>`` in this test's HOME (``start_serve``),
  stopped with SIGTERM at the end of the test, its log kept in HOME;
- put a recording ``iotspot-helper`` first on PATH (``helper_on_path``): it appends its argv
  to a file and execs the built helper, so a test can count how often a shim ran the helper
  and check that no argv held a token (``helper_calls``);
- run a tool with text capture and check that its output holds no secret (``run_tool``);
- check that no file under a directory holds a token or the client secret
  (``assertNoSecretsInFiles``).

The node tools (newman, bru) come from build-node/node_modules (pinned by tests/node), installed by
scripts/bootstrap.sh with ``npm ci``; ``node_tool`` fails with that advice when they are not
there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Dict, List, Optional, Sequence, Tuple

from .harness import HelperTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PLUGINS = os.path.join(REPO, "plugins")
NODE_TOOLS = os.path.join(REPO, "build-node", "node_modules", ".bin")

RECORDING_HELPER = """#!/bin/sh
# Records one line per run: the arguments, separated by US characters.
(IFS=$(printf '\\037'); printf '%s\\n' "$*") >>'{calls}'
exec '{real}' "$@"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_tool(name: str) -> str:
    path = os.path.join(NODE_TOOLS, name)
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is not installed in build-node; run scripts/bootstrap.sh "
                             "(npm ci of tests/node's lock file)" % name)
    return path


class ApiClientTestCase(HelperTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bindir = os.path.join(self.home, "bin")
        os.mkdir(self.bindir)
        self.calls_file = os.path.join(self.home, "helper-calls")
        self.ping = self.server.api_url + "v1/ping"

    # -- the helper on PATH ----------------------------------------------------------------
    def helper_on_path(self) -> str:
        """Installs the recording iotspot-helper in HOME/bin; returns a PATH with it first."""
        wrapper = os.path.join(self.bindir, "iotspot-helper")
        if not os.path.exists(wrapper):
            with open(wrapper, "w") as f:
                f.write(RECORDING_HELPER.format(calls=self.calls_file, real=self.bin))
            os.chmod(wrapper, 0o755)
        return self.bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")

    def helper_calls(self) -> List[List[str]]:
        """The argv of every run of the recording helper so far (checked for secrets)."""
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file, encoding="utf-8") as f:
            text = f.read()
        self.assertNoSecrets(text)
        return [line.split("\x1f") if line else [] for line in text.splitlines()]

    # -- serve ---------------------------------------------------------------------------------
    def start_serve(self, *args: str, env: Optional[Dict[str, str]] = None) -> Tuple[str, str]:
        """Starts `iotspot-helper serve --port <free port> ARGS`; returns (its URL, the key)."""
        env = env or self.env()
        key = self.run_helper("serve", "--print-key", env=env, check=True).stdout.strip()
        self.assertRegex(key, r"^[0-9a-f]{64}$")
        port = free_port()
        self.serve_log = os.path.join(self.home, "serve.log")
        log = open(self.serve_log, "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([self.bin, "serve", "--port", str(port), *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.home)

        def stop() -> None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

        self.addCleanup(stop)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                with open(self.serve_log) as f:
                    self.fail("serve exited with %s: %s" % (proc.returncode, f.read()))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.fail("serve did not start listening on port %d" % port)
                time.sleep(0.05)
        return "http://127.0.0.1:%d" % port, key

    # -- running tools --------------------------------------------------------------------------
    def run_tool(self, argv: Sequence[str], env: Dict[str, str], cwd: Optional[str] = None,
                 timeout: float = 180, input: Optional[str] = None  # noqa: A002
                 ) -> subprocess.CompletedProcess:
        """Runs ``argv`` (text, captured); fails if argv, stdout or stderr hold a secret."""
        self.assertNoSecrets("\n".join(argv))
        proc = subprocess.run(list(argv), env=env, cwd=cwd or self.home, text=True,
                              encoding="utf-8", errors="replace", capture_output=True,
                              timeout=timeout, input=input if input is not None else "")
        self.assertNoSecrets(proc.stdout)
        self.assertNoSecrets(proc.stderr)
        return proc

    def describe(self, proc: subprocess.CompletedProcess) -> str:
        return "exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            proc.returncode, self.redact(proc.stdout), self.redact(proc.stderr))

    def assertNoSecretsInFiles(self, *roots: str) -> None:  # noqa: N802
        """No file under ``roots`` (symbolic links not followed) holds an issued token, its
        signature or the client secret."""
        for root in roots:
            for directory, _dirs, files in os.walk(root):
                for name in files:
                    path = os.path.join(directory, name)
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    with open(path, "rb") as f:
                        data = f.read()
                    with self.subTest(file=os.path.relpath(path, root)):
                        self.assertNoSecrets(data)

    def copy_tree(self, source: str, name: str) -> str:
        """A copy of ``source`` in HOME (tools may write beside their input)."""
        target = os.path.join(self.home, name)
        shutil.copytree(source, target)
        return target


__all__ = ["ApiClientTestCase", "free_port", "node_tool", "PLUGINS", "REPO"]
