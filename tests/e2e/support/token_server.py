#!/usr/bin/env python3
"""A stand-in for Amazon Cognito's OAuth2 token endpoint, over real TLS.

It serves, on 127.0.0.1 only:

``POST /oauth2/token``
    The client-credentials grant as Cognito implements it: client
    authentication by ``Authorization: Basic base64(id:secret)``
    (client_secret_basic) or by ``client_id``/``client_secret`` form fields
    (client_secret_post); errors are HTTP 400 with ``{"error": "..."}``
    (invalid_request, invalid_client, unauthorized_client,
    unsupported_grant_type, invalid_scope).  Success is HTTP 200 with
    ``{"access_token": <JWT>, "expires_in": N, "token_type": "Bearer"}``.

``GET``, ``POST``, ``PUT``, ``PATCH``, ``DELETE /v1/<anything>`` (``/v1/ping``
in particular; not ``/v1/token``)
    A protected API endpoint: 200 ``{"ok": true, "client_id": ...}`` (with
    ``"method"`` and the request body as ``"received"`` for a request with a
    body) for a live token issued by this server, else 401 with
    ``WWW-Authenticate: Bearer error="invalid_token"`` and
    ``{"message": "Unauthorized"}``.  ``revoke(token)`` and ``revoke_all()``
    make it refuse tokens before they expire, as an API does after a secret
    is rotated.

Faults can be scripted per token request (see ``TokenServer.script``) and per
API request (``TokenServer.script_api``: 429 with Retry-After, 5xx, any body).

Standard library only.  The server never logs tokens or secrets; by default it
logs nothing at all.

Library use::

    server = TokenServer(cert, key, clients={"id": "secret"})
    server.start()
    ... server.token_url, server.api_url, server.token_requests ...
    server.stop()

CLI use::

    token_server.py --cert C --key K --clients FILE [--port N] [--port-file F]
                    [--expires-in N] [--scope S] [--delay SECONDS] [--verbose]

FILE is a JSON object mapping client id -> secret (or -> {"secret": ...,
"allowed": bool}); keep it mode 0600.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import hmac
import http.server
import json
import os
import secrets
import select
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

__all__ = [
    "TokenServer",
    "TOKEN_PATH",
    "DEFAULT_SCOPE",
    "FAULT_KEYS",
    "b64url_encode",
    "b64url_decode",
    "decode_jwt",
]

HOST = "127.0.0.1"
TOKEN_PATH = "/oauth2/token"
API_PREFIX = "/v1/"
DEFAULT_SCOPE = "iotspot/openapi"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# What Cognito's token endpoint actually sends.
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
# AWS JSON protocol error responses (e.g. TooManyRequestsException).
AWS_JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY = 64 * 1024
HANDLER_TIMEOUT = 15.0  # seconds: idle keep-alive connections / stalled clients

NO_STORE_HEADERS = (
    ("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"),
    ("Pragma", "no-cache"),
)

FAULT_KEYS = frozenset({
    "status",        # int: answer with this status (default body: small JSON)
    "retry_after",   # str/int: add a Retry-After header (delta-seconds or HTTP-date)
    "body",          # str/bytes: send exactly this body (status defaults to 200)
    "content_type",  # str: Content-Type for "body"/"status"/"throttle" faults
    "headers",       # dict/list of pairs: extra response headers
    "drop",          # True: close the connection without any response
    "truncate",      # True: Content-Length larger than the (partial) body, then close
    "throttle",      # True: HTTP 400 TooManyRequestsException (AWS JSON error shape)
    "delay",         # float seconds: sleep before answering this one request
    "date",          # str: send this Date header (normal success otherwise)
    "expires_in",    # int: this one success uses this lifetime
    "close",         # True: answer normally, then close the connection without saying so
                     #       (a kept-alive connection the server drops while it is idle)
    "drip",          # float seconds: send the normal answer one byte at a time, this long
                     #       apart (a slow-drip server that defeats per-read timeouts)
    "raw",           # bytes: send exactly these bytes as the whole answer, then close
})

API_FAULT_KEYS = frozenset({
    "status",        # int: answer with this status instead of checking the token
    "retry_after",   # str/int: add a Retry-After header
    "body",          # str/bytes: the body (default: small JSON naming the status)
    "content_type",  # str: Content-Type of the body
    "headers",       # dict/list of pairs: extra response headers
})

_UNSET: Any = object()


# --------------------------------------------------------------------------
# small helpers

def b64url_encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding."""
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(token: str) -> Tuple[Dict[str, Any], Dict[str, Any], bytes]:
    """Split a compact JWT into (header dict, payload dict, signature bytes).

    No signature verification (the signatures issued here are random bytes).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT (expected 3 parts, got %d)" % len(parts))
    header = json.loads(b64url_decode(parts[0]))
    payload = json.loads(b64url_decode(parts[1]))
    return header, payload, b64url_decode(parts[2])


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _normalize_clients(clients: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for client_id, value in clients.items():
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client ids must be non-empty strings")
        if isinstance(value, str):
            out[client_id] = {"secret": value, "secrets": [value], "allowed": True}
        elif isinstance(value, Mapping):
            # "secrets": the active secrets of a client during a rotation (Cognito allows two).
            secrets_ = value.get("secrets", [value.get("secret")])
            if not secrets_ or not all(isinstance(one, str) for one in secrets_):
                raise ValueError("client %r: 'secret' must be a string" % client_id)
            out[client_id] = {"secret": secrets_[0], "secrets": list(secrets_),
                              "allowed": bool(value.get("allowed", True))}
        else:
            raise ValueError("client %r: value must be a secret string or a dict" % client_id)
    return out


def _validate_fault(fault: Any) -> Dict[str, Any]:
    if not isinstance(fault, Mapping):
        raise TypeError("fault entries must be dicts, not %r" % type(fault).__name__)
    unknown = set(fault) - FAULT_KEYS
    if unknown:
        raise ValueError("unknown fault keys %s (known: %s)"
                         % (sorted(unknown), sorted(FAULT_KEYS)))
    if "status" in fault and not isinstance(fault["status"], int):
        raise TypeError("fault 'status' must be an int")
    if "delay" in fault and float(fault["delay"]) < 0:
        raise ValueError("fault 'delay' must be >= 0")
    if "expires_in" in fault and not isinstance(fault["expires_in"], int):
        raise TypeError("fault 'expires_in' must be an int")
    if "drip" in fault and float(fault["drip"]) <= 0:
        raise ValueError("fault 'drip' must be > 0")
    return dict(fault)


def _validate_api_fault(fault: Any) -> Dict[str, Any]:
    if not isinstance(fault, Mapping):
        raise TypeError("API fault entries must be dicts, not %r" % type(fault).__name__)
    unknown = set(fault) - API_FAULT_KEYS
    if unknown:
        raise ValueError("unknown API fault keys %s (known: %s)"
                         % (sorted(unknown), sorted(API_FAULT_KEYS)))
    if not isinstance(fault.get("status"), int):
        raise TypeError("API fault 'status' must be an int")
    return dict(fault)


def _header_items(headers: Any) -> List[Tuple[str, str]]:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


class _OAuthError(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class _TokenRecord:
    __slots__ = ("client_id", "scope", "iat", "exp", "revoked")

    def __init__(self, client_id: str, scope: str, iat: int, exp: int):
        self.client_id = client_id
        self.scope = scope
        self.iat = iat
        self.exp = exp
        self.revoked = False


# --------------------------------------------------------------------------
# HTTP plumbing

class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: Tuple[str, int], owner: "TokenServer"):
        self.owner = owner
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        # The TLS handshake is done in the handler thread (see _Handler.setup),
        # so a slow or failing client never blocks the accept loop.
        self.socket = owner._ssl_context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False)

    def server_bind(self) -> None:
        # http.server.HTTPServer.server_bind would do a reverse DNS lookup.
        import socketserver
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, EOFError)):
            # TLS handshake failures (clients that do not trust us, by design
            # in the negative tests), resets, timeouts, broken pipes: expected.
            return
        # Unexpected bug in this file: show where, but not the exception
        # message (which could in theory carry request data).
        sys.stderr.write("token server: internal error %s\n%s" % (
            type(exc).__name__, "".join(traceback.format_tb(sys.exc_info()[2]))))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iotspot-test-token-server/1.0"
    sys_version = ""
    timeout = HANDLER_TIMEOUT
    server: _HTTPServer

    # -- connection lifecycle ------------------------------------------------
    def setup(self) -> None:
        self.owner: TokenServer = self.server.owner
        self.owner._connection_opened(self.request)
        try:
            if self.owner.stalls_handshake:
                self._stall()
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        except BaseException:
            self.owner._connection_closed(self.request)
            raise
        super().setup()

    def _stall(self) -> None:
        """Accept the TCP connection but never answer the ClientHello: read and discard
        what the client sends until it gives up or the server stops."""
        raw = self.request
        while not self.owner._stopping.is_set():
            readable, _, _ = select.select([raw], [], [], 0.1)
            if readable and not socket.socket.recv(raw, 4096):
                break
        raise ConnectionAbortedError("handshake stalled on purpose")

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner._connection_closed(self.request)

    # -- logging: quiet unless verbose, never with tokens or secrets ----------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if self.owner.verbose:
            path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path
            sys.stderr.write("token server: %s %s -> %s\n"
                             % (getattr(self, "command", "-"), path, code))

    # -- responses -------------------------------------------------------------
    def send_raw(self, status: int, body: bytes, content_type: Optional[str],
                 headers: Iterable[Tuple[str, str]] = (), date: Optional[str] = None,
                 content_length: Optional[int] = None, close: bool = False) -> None:
        """Send a complete response (Content-Length always set)."""
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", date if date is not None else self.date_time_string())
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length",
                         str(len(body) if content_length is None else content_length))
        for name, value in headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.log_request(status, len(body))

    def send_json(self, status: int, obj: Any, headers: Iterable[Tuple[str, str]] = (),
                  date: Optional[str] = None, close: bool = False) -> None:
        self.send_raw(status, _json_bytes(obj), JSON_CONTENT_TYPE, headers, date=date,
                      close=close)

    # -- request body ------------------------------------------------------------
    def read_body(self) -> Optional[bytes]:
        """Read the request body; None means a response was sent / connection is done."""
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                self.send_json(501, {"message": "Not Implemented"}, close=True)
                return None
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length.strip())
            if n < 0:
                raise ValueError(length)
        except ValueError:
            self.send_json(400, {"message": "Bad Request"}, close=True)
            return None
        if n > MAX_BODY:
            self.send_json(413, {"message": "Request Entity Too Large"}, close=True)
            return None
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            return None
        return data

    def _read_chunked(self) -> Optional[bytes]:
        chunks: List[bytes] = []
        total = 0
        try:
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    self.close_connection = True
                    return None
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while True:  # trailers
                        trailer = self.rfile.readline(8192)
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.send_json(413, {"message": "Request Entity Too Large"}, close=True)
                    return None
                chunk = self.rfile.read(size)
                if len(chunk) != size:
                    self.close_connection = True
                    return None
                chunks.append(chunk)
                self.rfile.readline(16)  # CRLF after the chunk
        except ValueError:
            self.send_json(400, {"message": "Bad Request"}, close=True)
            return None

    # -- methods -------------------------------------------------------------------
    def _route(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        if body is None:
            return
        with self.owner._lock:
            self.owner._request_targets.append(self.path)
        path = self._route()
        if path == TOKEN_PATH:
            self.owner._handle_token(self, body)
        elif path.startswith(API_PREFIX) and path != "/v1/token":
            self.owner._handle_api(self, path, body)
        else:
            self.send_json(404, {"message": "Not Found"})

    def _api_only(self) -> None:
        body = self.read_body()
        if body is None:
            return
        path = self._route()
        if path.startswith(API_PREFIX) and path != "/v1/token":
            self.owner._handle_api(self, path, body)
        else:
            self.send_json(404, {"message": "Not Found"})

    do_PUT = do_PATCH = do_DELETE = _api_only  # noqa: N815

    def do_GET(self) -> None:  # noqa: N802
        body = self.read_body()
        if body is None:
            return
        path = self._route()
        if path == TOKEN_PATH:
            self.send_json(405, {"message": "Method Not Allowed"}, headers=[("Allow", "POST")])
        elif path.startswith(API_PREFIX) and path != "/v1/token":
            self.owner._handle_api(self, path, body)
        else:
            self.send_json(404, {"message": "Not Found"})

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()


# --------------------------------------------------------------------------
# the server

class TokenServer:
    """Cognito token endpoint stand-in + protected API, on https://127.0.0.1:PORT.

    ``clients`` maps client id -> secret, or -> {"secret": str, "allowed": bool}
    (allowed=False: the client authenticates but is not allowed the
    client_credentials grant -> 400 unauthorized_client).

    ``scope`` is the space-separated set of scopes the server grants; a request
    without ``scope`` gets all of them, a request for anything else gets
    400 invalid_scope.

    The socket is bound in the constructor (so ``port`` is known at once);
    ``start()`` begins serving.

    Like Cognito, ``iat``/``exp`` are whole seconds (``exp = iat + expires_in``)
    and the protected API refuses a token once ``time.time() >= exp``; so a
    token lives between ``expires_in - 1`` and ``expires_in`` seconds.
    """

    def __init__(self, cert: Union[str, os.PathLike], key: Union[str, os.PathLike],
                 clients: Mapping[str, Any], scope: str = DEFAULT_SCOPE,
                 expires_in: int = 3600, port: int = 0, delay: float = 0.0,
                 verbose: bool = False, host: str = HOST):
        self.verbose = verbose
        self._clients = _normalize_clients(clients)
        self._defaults = {"scope": scope, "expires_in": int(expires_in), "delay": float(delay)}
        self._scope = scope
        self._expires_in = int(expires_in)
        self._delay = float(delay)
        self.stalls_handshake = False

        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: collections.deque = collections.deque()
        self._api_faults: collections.deque = collections.deque()
        self._api_request_log: List[Dict[str, Any]] = []
        self._tokens: Dict[str, _TokenRecord] = {}
        self._issued: List[str] = []          # since the last reset_counters()
        self._all_issued: List[str] = []      # ever
        self._token_requests = 0
        self._token_request_log: List[Dict[str, Any]] = []
        self._api_requests = 0
        self._last_api_headers: Any = None
        self._last_api_path: Optional[str] = None
        self._connections_accepted = 0
        self._open_connections: set = set()
        self._request_targets: List[str] = []  # the target of every POST, as received
        self.host = host

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(os.fspath(cert), os.fspath(key))
        self._ssl_context = ctx

        self._httpd = _HTTPServer((host, int(port)), self)
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    # -- addresses ---------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return "https://%s:%d" % ("[%s]" % self.host if ":" in self.host else self.host,
                                  self.port)

    @property
    def token_url(self) -> str:
        return "%s%s" % (self.base_url, TOKEN_PATH)

    @property
    def api_url(self) -> str:
        """Base URL of the protected API (ends with '/'); /v1/ping lives below it."""
        return "%s/" % self.base_url

    @property
    def issuer(self) -> str:
        return self.base_url

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> "TokenServer":
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="token-server-%d" % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and all open connections."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()  # interrupts delays
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()
        with self._lock:
            conns = list(self._open_connections)
        for conn in conns:
            try:
                # The plain-socket shutdown, so the TLS object is left alone
                # while its handler thread may still be reading.
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "TokenServer":
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- run-time control ------------------------------------------------------------
    def set(self, expires_in: Any = _UNSET, delay: Any = _UNSET, scope: Any = _UNSET,
            stall_handshake: Any = _UNSET) -> None:
        """Change behaviour for subsequent requests; omitted arguments are unchanged.
        ``stall_handshake=True``: new connections are accepted but the TLS handshake is
        never answered (until reset())."""
        with self._lock:
            if stall_handshake is not _UNSET:
                self.stalls_handshake = bool(stall_handshake)
            if expires_in is not _UNSET:
                self._expires_in = int(expires_in)
            if delay is not _UNSET:
                self._delay = float(delay)
            if scope is not _UNSET:
                self._scope = str(scope)

    def script(self, faults: Iterable[Mapping[str, Any]]) -> None:
        """Replace the queue of one-shot faults.

        Each token request (any outcome) consumes the next entry, in order;
        once the queue is empty requests are handled normally.  ``script([])``
        clears it.  See FAULT_KEYS for the recognised keys.
        """
        validated = [_validate_fault(f) for f in faults]
        with self._lock:
            self._faults = collections.deque(validated)

    def clear_script(self) -> None:
        self.script([])

    def script_api(self, faults: Iterable[Mapping[str, Any]]) -> None:
        """Replace the queue of one-shot API answers: each protected-API request consumes
        the next entry and gets its status (with Retry-After, headers, body) without its
        token being looked at; once the queue is empty tokens are checked as usual.
        See API_FAULT_KEYS."""
        validated = [_validate_api_fault(f) for f in faults]
        with self._lock:
            self._api_faults = collections.deque(validated)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def revoke(self, token: str) -> None:
        """The protected API stops accepting this one token (KeyError if never issued)."""
        with self._lock:
            self._tokens[token].revoked = True

    def revoke_all(self) -> None:
        """The protected API stops accepting every token issued so far."""
        with self._lock:
            for record in self._tokens.values():
                record.revoked = True

    def set_client_secrets(self, client_id: str, secrets_: List[str]) -> None:
        """The active secrets of ``client_id`` from now on (a rotation: add, then delete)."""
        with self._lock:
            self._clients[client_id]["secrets"] = list(secrets_)
            self._clients[client_id]["secret"] = secrets_[0]

    def reset_counters(self) -> None:
        """Zero token_requests/api_requests, forget issued_tokens (tokens stay
        valid) and the recorded requests."""
        with self._lock:
            self._token_requests = 0
            self._token_request_log = []
            self._issued = []
            self._api_requests = 0
            self._api_request_log = []
            self._last_api_headers = None
            self._last_api_path = None
            self._request_targets = []

    def reset(self) -> None:
        """reset_counters() + clear the fault script + constructor settings."""
        with self._lock:
            self._faults.clear()
            self._api_faults.clear()
            self._scope = self._defaults["scope"]
            self._expires_in = self._defaults["expires_in"]
            self._delay = self._defaults["delay"]
            self.stalls_handshake = False
        self.reset_counters()

    # -- observations ----------------------------------------------------------------
    @property
    def token_requests(self) -> int:
        """Number of POST /oauth2/token requests since reset_counters(), any outcome."""
        with self._lock:
            return self._token_requests

    @property
    def issued_tokens(self) -> List[str]:
        """Access tokens issued since reset_counters() (a copy)."""
        with self._lock:
            return list(self._issued)

    @property
    def all_issued_tokens(self) -> List[str]:
        """Every access token this server ever minted, including those only
        partially sent by a "truncate" fault (a copy)."""
        with self._lock:
            return list(self._all_issued)

    @property
    def token_request_log(self) -> List[Dict[str, Any]]:
        """One dict per token request since reset_counters(), without secrets:
        {"auth_method": "client_secret_basic"|"client_secret_post"|None,
         "client_id": str|None, "params": sorted form field names,
         "content_type": str|None, "user_agent": str|None,
         "fault": sorted fault keys or None, "outcome": "issued"|error|"fault",
         "received_at": time.time() when its head had been read}."""
        with self._lock:
            return [dict(entry) for entry in self._token_request_log]

    @property
    def api_requests(self) -> int:
        with self._lock:
            return self._api_requests

    @property
    def api_request_log(self) -> List[Dict[str, Any]]:
        """One dict per protected-API request since reset_counters():
        {"method", "path", "token" (the bearer token sent, or None), "body" (bytes),
        "status" (of the answer)}.  Held in memory only, never logged."""
        with self._lock:
            return [dict(entry) for entry in self._api_request_log]

    @property
    def last_api_headers(self) -> Any:
        """Headers (email.message.Message, case-insensitive .get) of the last
        protected-API request, or None."""
        with self._lock:
            return self._last_api_headers

    @property
    def last_api_path(self) -> Optional[str]:
        with self._lock:
            return self._last_api_path

    @property
    def request_targets(self) -> List[str]:
        """The request target of every POST since the last reset_counters()."""
        with self._lock:
            return list(self._request_targets)

    @property
    def connections_accepted(self) -> int:
        """TLS connections whose handshake was started (for keep-alive checks)."""
        with self._lock:
            return self._connections_accepted

    def token_info(self, token: str) -> Optional[Dict[str, Any]]:
        """What the server knows about a token it issued, else None."""
        with self._lock:
            rec = self._tokens.get(token)
            if rec is None:
                return None
            return {"client_id": rec.client_id, "scope": rec.scope, "iat": rec.iat,
                    "exp": rec.exp, "revoked": rec.revoked}

    # -- connection bookkeeping ------------------------------------------------------
    def _connection_opened(self, conn: Any) -> None:
        with self._lock:
            self._connections_accepted += 1
            self._open_connections.add(conn)

    def _connection_closed(self, conn: Any) -> None:
        with self._lock:
            self._open_connections.discard(conn)

    # -- token endpoint ------------------------------------------------------------------
    def _handle_token(self, h: _Handler, body: bytes) -> None:
        entry: Dict[str, Any] = {
            "auth_method": None, "client_id": None, "params": [],
            "content_type": h.headers.get("Content-Type"),
            "user_agent": h.headers.get("User-Agent"),
            "fault": None, "outcome": None, "received_at": time.time(),
        }
        with self._lock:
            self._token_requests += 1
            self._token_request_log.append(entry)
            fault = self._faults.popleft() if self._faults else {}
            expires_in, delay, scope = self._expires_in, self._delay, self._scope
        if fault:
            entry["fault"] = sorted(fault)

        delay += float(fault.get("delay", 0) or 0)
        if delay > 0 and self._stopping.wait(delay):
            h.close_connection = True
            entry["outcome"] = "stopped"
            return

        extra = _header_items(fault.get("headers"))
        if fault.get("retry_after") is not None:
            extra.append(("Retry-After", str(fault["retry_after"])))
        date = fault.get("date")

        if "raw" in fault:
            entry["outcome"] = "fault"
            h.close_connection = True
            h.wfile.write(fault["raw"])
            h.wfile.flush()
            return
        if fault.get("drop"):
            entry["outcome"] = "fault"
            h.close_connection = True  # no response at all
            return
        if fault.get("truncate"):
            entry["outcome"] = "fault"
            full = self._token_response_body(self._mint(entry.get("client_id") or "truncated",
                                                        scope, expires_in, register=False),
                                             expires_in)
            part = full[: max(1, len(full) // 2)]
            h.send_raw(200, part, JSON_CONTENT_TYPE, list(NO_STORE_HEADERS) + extra,
                       date=date, content_length=len(full))
            h.close_connection = True
            return
        if fault.get("throttle"):
            entry["outcome"] = "fault"
            h.send_raw(
                int(fault.get("status", 400)),
                _json_bytes({"__type": "TooManyRequestsException", "message": "Rate exceeded"}),
                fault.get("content_type", AWS_JSON_CONTENT_TYPE),
                [("x-amzn-ErrorType", "TooManyRequestsException"),
                 ("x-amzn-RequestId", str(uuid.uuid4()))] + extra,
                date=date)
            return
        if "body" in fault:
            entry["outcome"] = "fault"
            raw = fault["body"]
            raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
            h.send_raw(int(fault.get("status", 200)), raw,
                       fault.get("content_type", JSON_CONTENT_TYPE), extra, date=date)
            return
        if "status" in fault:
            entry["outcome"] = "fault"
            status = int(fault["status"])
            reason = h.responses.get(status, ("Error",))[0]
            h.send_raw(status, _json_bytes({"message": reason}),
                       fault.get("content_type", JSON_CONTENT_TYPE), extra, date=date)
            return

        # normal processing (a "date"/"expires_in"/"delay"/"headers"/"close" fault
        # only alters a regular answer)
        if "expires_in" in fault:
            expires_in = int(fault["expires_in"])
        try:
            client_id, granted = self._authorize(h, body, scope, entry)
        except _OAuthError as err:
            entry["outcome"] = err.error
            h.send_json(400, {"error": err.error}, headers=list(NO_STORE_HEADERS) + extra,
                        date=date)
            return
        token = self._mint(client_id, granted, expires_in, register=True)
        entry["outcome"] = "issued"
        if fault.get("drip"):
            self._drip(h, self._token_response_body(token, expires_in), float(fault["drip"]))
            return
        h.send_raw(200, self._token_response_body(token, expires_in), JSON_CONTENT_TYPE,
                   list(NO_STORE_HEADERS) + extra, date=date)
        if fault.get("close"):
            h.close_connection = True

    def _drip(self, h: _Handler, body: bytes, interval: float) -> None:
        """A complete, valid answer, one byte every ``interval`` seconds."""
        head = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                % (JSON_CONTENT_TYPE, len(body))).encode("ascii")
        h.close_connection = True
        for index, byte in enumerate(head + body):
            if index and self._stopping.wait(interval):
                return
            try:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
            except OSError:  # the client gave up, as it should
                return

    def _authorize(self, h: _Handler, body: bytes, scope: str,
                   entry: Dict[str, Any]) -> Tuple[str, str]:
        """Validate a token request like Cognito; returns (client_id, granted scope)."""
        mime = (h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if mime != FORM_CONTENT_TYPE:
            raise _OAuthError("invalid_request")
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                           strict_parsing=False, max_num_fields=64)
        except (UnicodeDecodeError, ValueError):
            raise _OAuthError("invalid_request")
        form: Dict[str, str] = {}
        for name, value in pairs:
            if name in form:  # repeated parameters are not allowed (RFC 6749 3.2)
                raise _OAuthError("invalid_request")
            form[name] = value
        entry["params"] = sorted(form)

        grant_type = form.get("grant_type")
        if not grant_type:
            raise _OAuthError("invalid_request")

        # client authentication
        basic_id = basic_secret = None
        auth = h.headers.get("Authorization")
        if auth is not None:
            scheme, _, credentials = auth.strip().partition(" ")
            if scheme.lower() != "basic":
                raise _OAuthError("invalid_client")
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                raise _OAuthError("invalid_client")
            if ":" not in decoded:
                raise _OAuthError("invalid_client")
            basic_id, basic_secret = decoded.split(":", 1)
        form_id = form.get("client_id")
        form_secret = form.get("client_secret")
        if basic_id is not None:
            entry["auth_method"] = "client_secret_basic"
            if form_id is not None and form_id != basic_id:
                raise _OAuthError("invalid_client")
            if form_secret is not None and not hmac.compare_digest(
                    form_secret.encode("utf-8"), basic_secret.encode("utf-8")):
                raise _OAuthError("invalid_client")
            client_id, secret = basic_id, basic_secret
        elif form_id is not None:
            entry["auth_method"] = "client_secret_post"
            if form_secret is None:
                raise _OAuthError("invalid_client")
            client_id, secret = form_id, form_secret
        else:
            raise _OAuthError("invalid_client")
        client = self._clients.get(client_id)
        if client is None or not any(
                hmac.compare_digest(one.encode("utf-8"), secret.encode("utf-8"))
                for one in client["secrets"]):
            raise _OAuthError("invalid_client")
        entry["client_id"] = client_id

        if grant_type != "client_credentials":
            raise _OAuthError("unsupported_grant_type")
        if not client["allowed"]:
            raise _OAuthError("unauthorized_client")

        allowed = scope.split()
        requested = form.get("scope")
        if requested is None or not requested.strip():
            granted = allowed
        else:
            granted = []
            for item in requested.split():
                if item not in allowed:
                    raise _OAuthError("invalid_scope")
                if item not in granted:
                    granted.append(item)
        return client_id, " ".join(granted)

    def _mint(self, client_id: str, scope: str, expires_in: int, register: bool) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "kid": "test", "typ": "JWT"}
        payload = {
            "sub": client_id,
            "client_id": client_id,
            "token_use": "access",
            "scope": scope,
            "iss": self.issuer,
            "iat": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
            "version": 2,
        }
        token = ".".join((b64url_encode(_json_bytes(header)),
                          b64url_encode(_json_bytes(payload)),
                          b64url_encode(secrets.token_bytes(256))))
        with self._lock:
            self._all_issued.append(token)
            if register:
                self._tokens[token] = _TokenRecord(client_id, scope, now, now + expires_in)
                self._issued.append(token)
        return token

    @staticmethod
    def _token_response_body(token: str, expires_in: int) -> bytes:
        return _json_bytes({"access_token": token, "expires_in": expires_in,
                            "token_type": "Bearer"})

    # -- protected API ----------------------------------------------------------------------
    def _handle_api(self, h: _Handler, path: str, body: bytes = b"") -> None:
        scheme, _, token = (h.headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip() if scheme.lower() == "bearer" and token.strip() else None
        entry: Dict[str, Any] = {"method": h.command, "path": path, "token": token,
                                 "body": body, "status": None}
        with self._lock:
            self._api_requests += 1
            self._api_request_log.append(entry)
            self._last_api_headers = h.headers
            self._last_api_path = path
            fault = self._api_faults.popleft() if self._api_faults else None
            record = self._tokens.get(token) if token else None
            if record is not None and (record.revoked or time.time() >= record.exp):
                record = None
        if fault is not None:
            entry["status"] = status = int(fault["status"])
            extra = _header_items(fault.get("headers"))
            if fault.get("retry_after") is not None:
                extra.append(("Retry-After", str(fault["retry_after"])))
            raw = fault.get("body")
            if raw is None:
                raw = _json_bytes({"message": h.responses.get(status, ("Error",))[0]})
            raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
            h.send_raw(status, raw, fault.get("content_type", JSON_CONTENT_TYPE), extra)
        elif record is None:
            entry["status"] = 401
            h.send_json(401, {"message": "Unauthorized"},
                        headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        else:
            entry["status"] = 200
            answer: Dict[str, Any] = {"ok": True, "client_id": record.client_id}
            if h.command not in ("GET", "HEAD"):
                answer["method"] = h.command
                answer["received"] = body.decode("utf-8", "replace")
            h.send_json(200, answer)


# --------------------------------------------------------------------------
# CLI

def _write_port_file(path: str, port: int) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Stand-in for Amazon Cognito's /oauth2/token endpoint (tests only; "
                    "listens on 127.0.0.1).")
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--clients", required=True,
                        help="JSON file: {client_id: secret} (keep it 0600)")
    parser.add_argument("--port", type=int, default=0, help="port (default: ephemeral)")
    parser.add_argument("--port-file", help="write the bound port here (atomically)")
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--scope", default=DEFAULT_SCOPE)
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds to wait before answering each token request")
    parser.add_argument("--verbose", action="store_true",
                        help="log method, path and status of each request to stderr")
    args = parser.parse_args(argv)

    try:
        mode = os.stat(args.clients).st_mode
        with open(args.clients, encoding="utf-8") as f:
            clients = json.load(f)
        if not isinstance(clients, dict):
            raise ValueError("the clients file must hold a JSON object")
        clients = _normalize_clients(clients)
    except (OSError, ValueError) as err:
        # json errors do not quote the document, so no secret is printed.
        print("token server: cannot load clients file: %s" % err, file=sys.stderr)
        return 2
    if mode & 0o077:
        print("token server: warning: %s is accessible by group/others" % args.clients,
              file=sys.stderr)

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        server = TokenServer(args.cert, args.key, clients, scope=args.scope,
                             expires_in=args.expires_in, port=args.port, delay=args.delay,
                             verbose=args.verbose)
    except (OSError, ssl.SSLError) as err:
        print("token server: cannot start: %s" % err, file=sys.stderr)
        return 2
    server.start()
    try:
        if args.port_file:
            _write_port_file(args.port_file, server.port)
        print("token server listening on https://%s:%d" % (HOST, server.port), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
