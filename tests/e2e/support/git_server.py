"""A git smart-HTTP server over real TLS, on 127.0.0.1 only, for the credential-helper tests.

It serves the bare repositories under ``project_root`` with ``git http-backend`` (CGI), and
admits a request only with ``Authorization: Bearer <token>`` where the token is live at the
test token server (issued by it, not revoked, not expired) and not refused here
(``refuse()``). Anything else gets 401 with ``WWW-Authenticate: Bearer realm="iotspot-test"``.
It records the bearer tokens it was sent, and the schemes of any other Authorization.

Library use::

    server = GitServer(cert, key, project_root, token_server).start()
    ... server.url("repo.git"), server.bearer_tokens, server.refuse(token) ...
    server.stop()
"""

from __future__ import annotations

import http.server
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Set, Tuple

from support.token_server import TokenServer

HOST = "127.0.0.1"
REALM = 'Bearer realm="iotspot-test"'
MAX_BODY = 1024 * 1024
CGI_TIMEOUT = 30.0  # seconds for one git http-backend run
HANDLER_TIMEOUT = 15.0  # seconds: idle keep-alive connections / stalled clients


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: "GitServer"):
        self.owner = owner
        super().__init__((HOST, 0), _Handler)

    def get_request(self) -> Tuple[Any, Any]:
        conn, address = super().get_request()
        conn.settimeout(HANDLER_TIMEOUT)
        return self.owner.ssl_context.wrap_socket(conn, server_side=True), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-request is no test failure by itself


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # never log: requests carry tokens

    def send_plain(self, status: int, text: str, headers: Tuple[Tuple[str, str], ...] = ()):
        body = text.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self) -> Optional[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(len(c) for c in chunks) > MAX_BODY:
                    return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if 0 <= length <= MAX_BODY else None

    def handle_git(self) -> None:
        body = self.read_body()
        if body is None:
            self.send_plain(413, "request body too large\n")
            return
        if not self.server.owner.admit(self.headers.get("Authorization")):
            self.send_plain(401, "authentication required\n", (("WWW-Authenticate", REALM),))
            return
        status, headers, payload = self.server.owner.run_backend(self, body)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = handle_git  # noqa: N815
    do_POST = handle_git  # noqa: N815


class GitServer:
    """git over https://127.0.0.1:PORT/<repo>, admitting only live bearer tokens."""

    def __init__(self, cert: str, key: str, project_root: str, tokens: TokenServer):
        self.project_root = project_root
        self._tokens = tokens
        self._git = shutil.which("git") or "git"
        self._lock = threading.Lock()
        self._refused: Set[str] = set()
        self._bearer_tokens: List[str] = []
        self._other_schemes: List[str] = []
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ssl_context.load_cert_chain(cert, key)
        self._httpd = _HTTPServer(self)
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return "https://%s:%d/" % (HOST, self.port)

    def url(self, repo: str) -> str:
        return self.base_url + repo

    def start(self) -> "GitServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def reset(self) -> None:
        """Forgets the refused tokens and the recorded Authorization headers."""
        with self._lock:
            self._refused.clear()
            self._bearer_tokens.clear()
            self._other_schemes.clear()

    def refuse(self, token: str) -> None:
        """Answer 401 to `token` from now on, though the token server still calls it live."""
        with self._lock:
            self._refused.add(token)

    @property
    def bearer_tokens(self) -> List[str]:
        """The token of every `Authorization: Bearer` received, in order (a copy)."""
        with self._lock:
            return list(self._bearer_tokens)

    @property
    def other_schemes(self) -> List[str]:
        """The scheme of every other Authorization received (e.g. "Basic")."""
        with self._lock:
            return list(self._other_schemes)

    def admit(self, authorization: Optional[str]) -> bool:
        if not authorization:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        with self._lock:
            if scheme.lower() != "bearer" or not token:
                self._other_schemes.append(scheme)
                return False
            self._bearer_tokens.append(token)
            if token in self._refused:
                return False
        info = self._tokens.token_info(token)
        return bool(info) and not info["revoked"] and time.time() < info["exp"]

    def run_backend(self, handler: _Handler, body: bytes) -> Tuple[int, List[Tuple[str, str]],
                                                                    bytes]:
        """Runs `git http-backend` for the request; returns status, headers and body."""
        url = urllib.parse.urlsplit(handler.path)
        env: Dict[str, str] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.project_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "REQUEST_METHOD": handler.command,
            "PATH_INFO": urllib.parse.unquote(url.path),
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": HOST,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for header, variable in (("Git-Protocol", "GIT_PROTOCOL"),
                                 ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if handler.headers.get(header):
                env[variable] = handler.headers[header]
        proc = subprocess.run([self._git, "http-backend"], input=body, env=env,
                              capture_output=True, timeout=CGI_TIMEOUT)
        for separator in (b"\r\n\r\n", b"\n\n"):
            if separator in proc.stdout:
                head, payload = proc.stdout.split(separator, 1)
                break
        else:
            return 500, [("Content-Type", "text/plain")], b"git http-backend failed\n"
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        return status, headers, payload
