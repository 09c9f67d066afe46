"""unittest base class for end-to-end tests of the built iotspot-helper binary.

Usage::

    from support.harness import HelperTestCase

    class ConfigureTest(HelperTestCase):
        def test_get_token(self):
            self.configure()
            proc = self.run_helper("token", check=True)
            self.assertNoSecrets(proc.stderr)

Run from tests/e2e with the binary in IOTSPOT_HELPER_BIN, e.g.::

    IOTSPOT_HELPER_BIN=$PWD/build/iotspot-helper \\
        /usr/bin/python3 -m unittest discover -s tests/e2e -v

Per class: one temporary directory, one PKI (support.pki.make_pki), one
TokenServer with one random client id and a random client secret.
Per test: a fresh, empty HOME (0700) and a reset server.

Set IOTSPOT_E2E_KEEP=1 to keep the temporary directories for debugging.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import ssl
import string
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple, Union

from .pki import Pki, make_pki
from .token_server import DEFAULT_SCOPE, TokenServer, b64url_decode, decode_jwt

__all__ = [
    "HelperTestCase",
    "random_client_id",
    "random_client_secret",
    "verifying_context",
    "decode_jwt",
    "b64url_decode",
]

HELPER_BIN_ENV = "IOTSPOT_HELPER_BIN"
KEEP_ENV = "IOTSPOT_E2E_KEEP"

# Test-tooling variables that are passed through to the helper when set in the
# environment of the test run (sanitizer and coverage builds); they do not
# change the helper's behaviour.
_PASSTHROUGH_ENV = (
    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "MSAN_OPTIONS",
    "LLVM_PROFILE_FILE", "GCOV_PREFIX", "GCOV_PREFIX_STRIP",
)


def random_client_id() -> str:
    """A Cognito-shaped app client id: 26 characters of [a-z0-9]."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(26))


def random_client_secret() -> str:
    return secrets.token_urlsafe(39)  # 52 characters, like Cognito's 51-52


def verifying_context(cafile: Union[str, os.PathLike]) -> ssl.SSLContext:
    """A client SSL context that trusts exactly ``cafile`` and checks host names."""
    ctx = ssl.create_default_context(cafile=os.fspath(cafile))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def _keep() -> bool:
    return os.environ.get(KEEP_ENV, "") not in ("", "0")


class HelperTestCase(unittest.TestCase):
    """Base class: a token server, a PKI, a client, a fresh HOME per test."""

    # Class-level fixtures (set by setUpClass).
    bin: str
    tmp: str
    pki: Pki
    server: TokenServer
    client_id: str
    client_secret: str
    scope: str = DEFAULT_SCOPE

    # Per-test fixture (set by setUp).
    home: str

    maxDiff = None

    # -- fixtures --------------------------------------------------------------------
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        helper = os.environ.get(HELPER_BIN_ENV)
        if not helper:
            raise RuntimeError(
                "%s is not set: point it at the built iotspot-helper binary, e.g. "
                "%s=$PWD/build/iotspot-helper" % (HELPER_BIN_ENV, HELPER_BIN_ENV))
        helper = os.path.abspath(helper)
        if not (os.path.isfile(helper) and os.access(helper, os.X_OK)):
            raise RuntimeError("%s=%s is not an executable file" % (HELPER_BIN_ENV, helper))
        cls.bin = helper

        cls.tmp = tempfile.mkdtemp(prefix="iotspot-e2e-")
        if _keep():
            print("\n[%s] keeping %s" % (cls.__name__, cls.tmp))
        else:
            cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.pki = make_pki(os.path.join(cls.tmp, "pki"))
        cls.client_id = random_client_id()
        cls.client_secret = random_client_secret()
        cls.server = TokenServer(cls.pki.server_cert, cls.pki.server_key,
                                 clients={cls.client_id: cls.client_secret},
                                 scope=cls.scope, expires_in=3600)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def tearDownClass(cls) -> None:
        # The server is stopped and the directory removed by class cleanups,
        # which also run when setUpClass fails half-way.
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        os.chmod(self.home, 0o700)
        if not _keep():
            self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)
        # Counters to zero, fault script cleared, expires_in=3600, delay=0,
        # configured scope restored.  Tokens issued earlier stay valid.
        self.server.reset()
        self.server.set(expires_in=3600, delay=0)
        self.server.script([])

    # -- running the helper ------------------------------------------------------------
    def env(self, **extra: Any) -> Dict[str, str]:
        """A clean environment built from scratch.

        HOME=self.home, PATH from the test run, LANG=C.UTF-8, sanitizer/coverage
        options if set, plus ``extra`` (a value of None removes the variable).
        No proxies, no XDG_*, no IOTSPOT_* unless passed in ``extra``.
        """
        env = {
            "HOME": self.home,
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
        }
        for name in _PASSTHROUGH_ENV:
            if name in os.environ:
                env[name] = os.environ[name]
        for name, value in extra.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        return env

    def run_helper(self, *args: Any, input: Optional[str] = None,  # noqa: A002
                   env: Optional[Dict[str, str]] = None, timeout: float = 60,
                   check: Union[None, bool, int] = None) -> subprocess.CompletedProcess:
        """Run the helper with ``args``; text mode, stdout/stderr captured.

        stdin is /dev/null unless ``input`` (a str) is given.  ``env`` defaults
        to ``self.env()``; cwd is HOME.  ``check``: None/False = no check,
        True = exit status must be 0, an int = exit status must equal it.
        """
        cmd = [self.bin] + [os.fspath(a) if isinstance(a, os.PathLike) else str(a)
                            for a in args]
        kwargs: Dict[str, Any] = {}
        if input is None:
            kwargs["stdin"] = subprocess.DEVNULL
        else:
            kwargs["input"] = input
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8", errors="replace", env=self.env() if env is None else env,
            cwd=self.home, timeout=timeout,
            # No controlling terminal, as under CI: otherwise a developer's terminal would
            # answer the helper's /dev/tty prompt (configure without a secret on stdin).
            start_new_session=True, **kwargs)
        if check is not None and check is not False:
            expected = 0 if check is True else int(check)
            if proc.returncode != expected:
                self.fail("%s exited %d, expected %d\n--- stdout ---\n%s\n--- stderr ---\n%s"
                          % (self.redact(" ".join(cmd[1:])), proc.returncode, expected,
                             self.redact(proc.stdout), self.redact(proc.stderr)))
        return proc

    def configure(self, profile: str = "default", client_id: Optional[str] = None,
                  secret: Optional[str] = None, extra_args: Sequence[Any] = (), *,
                  server: Optional[TokenServer] = None, ca_file: Optional[str] = None,
                  env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        """``iotspot-helper configure`` for ``profile`` against ``server``
        (default: the class server), secret on stdin; asserts exit status 0."""
        server = server or self.server
        args = [
            "configure",
            "--profile", profile,
            "--client-id", self.client_id if client_id is None else client_id,
            "--token-url", server.token_url,
            "--ca-file", ca_file or self.pki.ca_cert,
            "--api-url", server.api_url,
            "--client-secret-stdin",
            *extra_args,
        ]
        secret = self.client_secret if secret is None else secret
        return self.run_helper(*args, input=secret + "\n", env=env, check=True)

    def start_server(self, cert: Optional[str] = None, key: Optional[str] = None,
                     clients: Optional[Dict[str, Any]] = None,
                     **kwargs: Any) -> TokenServer:
        """Start an extra TokenServer for this test (stopped automatically).

        Defaults: the PKI's server certificate and this class's client.  Use
        e.g. ``start_server(self.pki.wrong_name_cert, self.pki.wrong_name_key)``
        for host-name verification failures.
        """
        server = TokenServer(cert or self.pki.server_cert, key or self.pki.server_key,
                             clients if clients is not None
                             else {self.client_id: self.client_secret},
                             **kwargs)
        server.start()
        self.addCleanup(server.stop)
        return server

    # -- secrets ---------------------------------------------------------------------------
    def _secret_needles(self, extra: Iterable[str] = ()) -> Iterable[Tuple[str, str]]:
        yield "the client secret", self.client_secret
        basic = base64.b64encode(
            ("%s:%s" % (self.client_id, self.client_secret)).encode("utf-8")).decode("ascii")
        yield "the Basic credentials (base64 of id:secret)", basic
        for index, token in enumerate(self.server.all_issued_tokens):
            yield "issued access token #%d" % index, token
            signature = token.rsplit(".", 1)[-1]
            yield "the signature of issued access token #%d" % index, signature
        for index, value in enumerate(extra):
            if value:
                yield "extra secret #%d" % index, value

    def redact(self, text: Optional[str], extra: Iterable[str] = ()) -> str:
        """``text`` with every known secret/token replaced by <redacted>."""
        if not text:
            return text or ""
        for _what, needle in sorted(self._secret_needles(extra), key=lambda p: -len(p[1])):
            text = text.replace(needle, "<redacted>")
        return text

    def assertNoSecrets(self, text: Union[str, bytes, None],  # noqa: N802
                        extra: Iterable[str] = ()) -> None:
        """Fail if ``text`` contains the client secret (plain or as Basic
        credentials), any access token this server issued (or its signature),
        or any string in ``extra``.  The failure message never shows the secret."""
        if text is None:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        found = [what for what, needle in self._secret_needles(extra)
                 if needle and needle in text]
        if found:
            self.fail("output contains %s" % ", ".join(found))

    # -- protected API -------------------------------------------------------------------------
    def api_get(self, token: str, path: str = "/v1/ping",
                server: Optional[TokenServer] = None) -> Tuple[int, str]:
        """GET ``path`` on the protected API with ``Authorization: Bearer token``,
        trusting only the test CA.  Returns (status, body text)."""
        server = server or self.server
        url = server.api_url.rstrip("/") + "/" + path.lstrip("/")
        request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=verifying_context(self.pki.ca_cert)))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.read().decode("utf-8", errors="replace")
