"""A real redis-server or valkey-server on 127.0.0.1 for the fleet tests.

Usage::

    server = RedisServer("redis-server", directory, tls=pki)   # or "valkey-server"
    server.start()
    server.command("SCAN", "0")        # as the admin user
    server.stop_process()              # SIGSTOP; server.resume() sends SIGCONT
    server.kill()                      # SIGKILL; server.start() again on the same port

The server runs with the default user disabled and two ACL users: ``helper`` (what
iotspot-helper needs: GET, SET, EVAL with DEL inside, PING, SELECT on ``iotspot-helper:*``
keys, ROLE for Sentinel and ASKING for Cluster) and ``admin`` (everything, for the tests' own inspection). With ``tls`` (a
support.pki.Pki, or a (cert, key, ca) triple) it listens with TLS only. Nothing is persisted.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from typing import Any, List, Optional, Sequence, Tuple

__all__ = ["RedisServer", "installed_servers", "free_port"]

HELPER_USER = "helper"
ADMIN_USER = "admin"


def installed_servers() -> List[str]:
    """The server programs installed here: redis-server (Debian 12), valkey-server (13)."""
    return [name for name in ("redis-server", "valkey-server") if shutil.which(name)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RespError(Exception):
    """An error reply (-ERR ...) from the server."""


class RedisServer:
    def __init__(self, program: str, directory: str,
                 tls: Optional[Tuple[str, str, str]] = None,
                 hostname: str = "127.0.0.1", extra_config: Sequence[str] = ()) -> None:
        self.program = program
        self.extra_config = list(extra_config)  # lines added to the configuration
        self.directory = directory
        self.tls = tls  # (cert, key, ca)
        self.hostname = hostname  # the name the tests' own TLS connections verify
        self.port = free_port()
        self.helper_password = secrets.token_urlsafe(18)
        self.admin_password = secrets.token_urlsafe(18)
        self._process: Optional[subprocess.Popen] = None
        os.makedirs(directory, mode=0o700, exist_ok=True)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The shared_cache URL for the helper user (no password: it never goes in one)."""
        scheme = "rediss" if self.tls else "redis"
        return "%s://%s@127.0.0.1:%d" % (scheme, HELPER_USER, self.port)

    def _config(self) -> str:
        lines = [
            "bind 127.0.0.1",
            "protected-mode yes",
            'save ""',
            "appendonly no",
            "daemonize no",
            "dir %s" % self.directory,
            "logfile %s" % os.path.join(self.directory, "server.log"),
            "user default off",
            "user %s on >%s ~iotspot-helper:* -@all +get +set +eval +del +ping +select"
            " +incr +pexpire +mget +role +asking" % (HELPER_USER, self.helper_password),
            "user %s on >%s ~* &* +@all" % (ADMIN_USER, self.admin_password),
        ]
        if self.tls:
            cert, key, ca = self.tls
            lines += ["port 0", "tls-port %d" % self.port, "tls-cert-file %s" % cert,
                      "tls-key-file %s" % key, "tls-ca-cert-file %s" % ca,
                      "tls-auth-clients no"]
        else:
            lines += ["port %d" % self.port]
        return "\n".join(lines + self.extra_config) + "\n"

    def start(self) -> "RedisServer":
        path = os.path.join(self.directory, "server.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as conf:
            conf.write(self._config())
        self._process = subprocess.Popen([self.program, path], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.command("PING") == "PONG":
                    return self
            except (OSError, RespError):
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = os.path.join(self.directory, "server.log")
                text = ""
                if os.path.exists(log):
                    with open(log) as handle:
                        text = handle.read()[-2000:]
                raise RuntimeError("%s did not start on port %d:\n%s"
                                   % (self.program, self.port, text))
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self._process and self._process.poll() is None:
            self.resume()
            self._process.kill()
            self._process.wait(10)

    def stop_process(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers."""
        assert self._process
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGCONT)

    # -- a small RESP client, as the admin user ---------------------------------------------
    def command(self, *args: Any) -> Any:
        with self._connect() as sock:
            stream = sock.makefile("rwb")
            self._send(stream, "AUTH", ADMIN_USER, self.admin_password)
            self._read(stream)
            self._send(stream, *args)
            return self._read(stream)

    def keys_and_values(self) -> List[Tuple[bytes, bytes]]:
        """Every key in every database 0-15 and its value (strings) or type (others)."""
        found = []
        for db in range(16):
            with self._connect() as sock:
                stream = sock.makefile("rwb")
                for args in (("AUTH", ADMIN_USER, self.admin_password), ("SELECT", db)):
                    self._send(stream, *args)
                    self._read(stream)
                cursor = b"0"
                while True:
                    self._send(stream, "SCAN", cursor, "COUNT", 1000)
                    cursor, keys = self._read(stream)
                    for key in keys:
                        self._send(stream, "TYPE", key)
                        kind = self._read(stream)
                        if kind == "string":
                            self._send(stream, "GET", key)
                            value = self._read(stream) or b""
                        else:
                            value = str(kind).encode()
                        found.append((key, value))
                    if cursor in (b"0", "0"):
                        break
        return found

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if self.tls:
            context = ssl.create_default_context(cafile=self.tls[2])
            sock = context.wrap_socket(sock, server_hostname=self.hostname)
        return sock

    @staticmethod
    def _send(stream: Any, *args: Any) -> None:
        out = b"*%d\r\n" % len(args)
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        stream.write(out)
        stream.flush()

    @classmethod
    def _read(cls, stream: Any) -> Any:
        line = stream.readline()
        if not line:
            raise OSError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = stream.read(length + 2)
            return data[:-2]
        if kind == b"*":
            return [cls._read(stream) for _ in range(int(rest))]
        raise OSError("unexpected reply %r" % line[:20])
