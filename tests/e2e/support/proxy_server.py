"""Small proxies on 127.0.0.1 for the network tests: an HTTP CONNECT proxy, the same over
TLS (an https:// proxy, with a certificate of the tests' CA), and a SOCKS5 proxy. Each
records what it was asked for, so a test can assert where credentials arrived.

Bounded: at most 16 connections at a time, 8 KiB of request head, 10 s per read; the
tunnels relay at most 4 MiB each way.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import struct
import threading
from typing import Any, Dict, List, Optional

MAX_HEAD = 8192
READ_TIMEOUT = 10.0
MAX_RELAY = 4 * 1024 * 1024
MAX_CONNECTIONS = 16


class ProxyServer(socketserver.ThreadingTCPServer):
    """kind: "http", "https" (needs cert and key) or "socks5"."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, kind: str, cert: Optional[str] = None, key: Optional[str] = None,
                 refuse: Optional[int] = None):
        self.kind = kind
        self.refuse = refuse  # an HTTP status to answer every CONNECT with
        self.requests: List[Dict[str, Any]] = []  # one per tunnel asked for
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.context: Optional[ssl.SSLContext] = None
        if kind == "https":
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.minimum_version = ssl.TLSVersion.TLSv1_2
            self.context.load_cert_chain(cert, key)
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, scheme: Optional[str] = None, credentials: str = "") -> str:
        return "%s://%s127.0.0.1:%d" % (scheme or self.kind,
                                        credentials + "@" if credentials else "", self.port)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _read_head(stream: Any) -> List[str]:
    lines: List[str] = []
    total = 0
    while True:
        line = stream.readline(MAX_HEAD)
        total += len(line)
        if not line or total > MAX_HEAD:
            return []
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    def pump(source: socket.socket, sink: socket.socket) -> None:
        moved = 0
        try:
            while moved < MAX_RELAY:
                data = source.recv(65536)
                if not data:
                    break
                moved += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    back = threading.Thread(target=pump, args=(b, a), daemon=True)
    back.start()
    pump(a, b)
    back.join(READ_TIMEOUT)


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: ProxyServer

    def handle(self) -> None:
        if not self.server.slots.acquire(blocking=False):
            return
        try:
            sock = self.request
            sock.settimeout(READ_TIMEOUT)
            if self.server.context is not None:
                sock = self.server.context.wrap_socket(sock, server_side=True)
            if self.server.kind == "socks5":
                self._socks5(sock)
            else:
                self._connect(sock)
        except (OSError, ValueError, ConnectionError, struct.error):
            pass
        finally:
            self.server.slots.release()

    def _record(self, entry: Dict[str, Any]) -> None:
        with self.server.lock:
            self.server.requests.append(entry)

    def _connect(self, sock: socket.socket) -> None:
        stream = sock.makefile("rb")
        lines = _read_head(stream)
        if not lines:
            return
        words = lines[0].split()
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        self._record({"target": words[1] if len(words) > 1 else "",
                      "authorization": fields.get("proxy-authorization"),
                      "over_tls": isinstance(sock, ssl.SSLSocket)})
        if len(words) < 2 or words[0] != "CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.server.refuse:
            sock.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n\r\n" % self.server.refuse)
            return
        host, port = words[1].rsplit(":", 1)
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=READ_TIMEOUT)
        with upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _relay(sock, upstream)

    def _socks5(self, sock: socket.socket) -> None:
        version, count = _recv_exact(sock, 2)
        methods = _recv_exact(sock, count)
        if version != 5:
            return
        username = None
        if 2 in methods:  # username/password (RFC 1929)
            sock.sendall(b"\x05\x02")
            _sub, ulen = _recv_exact(sock, 2)
            username = _recv_exact(sock, ulen).decode("latin-1")
            (plen,) = _recv_exact(sock, 1)
            _recv_exact(sock, plen)
            sock.sendall(b"\x01\x00")
        else:
            sock.sendall(b"\x05\x00")
        _ver, command, _rsv, atyp = _recv_exact(sock, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, _recv_exact(sock, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, _recv_exact(sock, 16))
        else:
            (length,) = _recv_exact(sock, 1)
            host = _recv_exact(sock, length).decode("latin-1")
        (port,) = struct.unpack("!H", _recv_exact(sock, 2))
        self._record({"target": "%s:%d" % (host, port), "by_name": atyp == 3,
                      "username": username})
        if command != 1:
            sock.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return
        # The tests' servers listen on 127.0.0.1; curl 8 resolves "localhost" to ::1 first
        # (RFC 6761's fixed answer), so a client resolving locally names ::1 for them.
        connect_to = "127.0.0.1" if host == "::1" else host
        try:
            upstream = socket.create_connection((connect_to, port), timeout=READ_TIMEOUT)
        except OSError:
            sock.sendall(b"\x05\x05\x00\x01" + bytes(6))
            return
        with upstream:
            sock.sendall(b"\x05\x00\x00\x01" + bytes(6))
            _relay(sock, upstream)
