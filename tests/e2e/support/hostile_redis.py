"""A hostile RESP server on 127.0.0.1: answers AUTH, SELECT, PING, SET and EVAL as Redis
would, and GET with one of the replies that once crashed, stalled or ballooned the helper.

Run as a program (the tests start it with HostileRedis below)::

    python3 hostile_redis.py MODE [CERTIFICATE KEY]   # prints the port on the first line

With a certificate and key it speaks TLS (rediss://), through memory BIOs so that a dripped
reply is dripped as encrypted bytes, in the middle of a TLS record.

MODE (what GET gets):
  nested   200,000 nested arrays, ``*1\\r\\n`` repeated
  drip     ``$1000\\r\\n``, then one byte every 200 ms
  huge     ``$2000000000\\r\\nabc``, then nothing (the connection stays open)
  error    ``-ERR`` with ESC and BEL in its text
  array    a flat array of two bulk strings (a type GET never has)

The server is bounded in time (it exits after LIFETIME seconds) and in memory (its address
space is limited to 256 MiB); it reads at most 1 MiB of any command and serves at most 32
connections at once.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from typing import List, Optional, Tuple

LIFETIME = 120
MEMORY_LIMIT = 256 * 1024 * 1024
COMMAND_LIMIT = 1024 * 1024
MAX_CONNECTIONS = 32
ESCAPE_AND_BELL = b"-ERR \x1b[31mred\x1b[0m and a bell\x07\r\n"
MODES = ("nested", "drip", "huge", "error", "array")


class Reader:
    """readline() and read() over a function that returns the next bytes received."""

    def __init__(self, receive) -> None:
        self.receive = receive
        self.buffer = b""

    def _more(self) -> None:
        data = self.receive()
        if not data:
            raise EOFError
        self.buffer += data

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self.buffer[:limit] and len(self.buffer) < limit:
            self._more()
        end = min(self.buffer.find(b"\n") + 1 or limit, limit)
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


class Plain:
    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def receive(self) -> bytes:
        return self.conn.recv(65536)

    def send(self, data: bytes, drip: bool = False) -> None:
        if not drip:
            self.conn.sendall(data)
            return
        for at in range(len(data)):
            time.sleep(0.2)
            self.conn.sendall(data[at:at + 1])


class Tls:
    """TLS through memory BIOs, so that the encrypted bytes can be sent one at a time: a
    TLS record then arrives over seconds, and the client's TLS library waits in the middle
    of a record, where a timeout per read never ends the wait."""

    def __init__(self, conn: socket.socket, context: ssl.SSLContext) -> None:
        self.conn = conn
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush(False)
                self._fill()
        self._flush(False)

    def _fill(self) -> None:
        data = self.conn.recv(65536)
        if not data:
            raise EOFError
        self.incoming.write(data)

    def _flush(self, drip: bool) -> None:
        Plain(self.conn).send(self.outgoing.read(), drip)

    def receive(self) -> bytes:
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._fill()

    def send(self, data: bytes, drip: bool = False) -> None:
        self.tls.write(data)
        self._flush(drip)


def _read_line(stream: Reader, budget: List[int]) -> bytes:
    line = stream.readline(budget[0])
    budget[0] -= len(line)
    if not line.endswith(b"\r\n"):
        raise EOFError
    return line[:-2]


def _read_command(stream: Reader) -> List[bytes]:
    """One RESP command (an array of bulk strings), at most COMMAND_LIMIT bytes."""
    budget = [COMMAND_LIMIT]
    head = _read_line(stream, budget)
    if not head.startswith(b"*"):
        raise EOFError
    words = []
    for _ in range(int(head[1:])):
        length = int(_read_line(stream, budget)[1:])
        if length < 0 or length + 2 > budget[0]:
            raise EOFError
        data = stream.read(length + 2)
        budget[0] -= len(data)
        words.append(data[:-2])
    return words


def _answer_get(mode: str, channel) -> None:
    if mode == "nested":
        channel.send(b"*1\r\n" * 200000)
    elif mode == "drip" and isinstance(channel, Tls):
        channel.send(b"$1000\r\n" + b"x" * 1000 + b"\r\n", drip=True)
    elif mode == "drip":
        channel.send(b"$1000\r\n")
        channel.send(b"x" * 1000, drip=True)
    elif mode == "huge":
        channel.send(b"$2000000000\r\nabc")
    elif mode == "error":
        channel.send(ESCAPE_AND_BELL)
    elif mode == "array":
        channel.send(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")


def _serve(mode: str, conn: socket.socket, context: Optional[ssl.SSLContext],
           slots: threading.Semaphore) -> None:
    try:
        with conn:
            conn.settimeout(LIFETIME)
            channel = Tls(conn, context) if context else Plain(conn)
            stream = Reader(channel.receive)
            while True:
                words = _read_command(stream)
                name = words[0].upper() if words else b""
                if name == b"GET":
                    _answer_get(mode, channel)
                elif name == b"PING":
                    channel.send(b"+PONG\r\n")
                elif name == b"EVAL":
                    channel.send(b":1\r\n")
                else:
                    channel.send(b"+OK\r\n")
    except (OSError, EOFError, ValueError, IndexError, ssl.SSLError):
        pass
    finally:
        slots.release()


def main(mode: str, tls: Optional[List[str]]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
    signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
    signal.alarm(LIFETIME)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    slots = threading.Semaphore(MAX_CONNECTIONS)
    while True:
        conn, _ = listener.accept()
        if not slots.acquire(blocking=False):
            conn.close()
            continue
        threading.Thread(target=_serve, args=(mode, conn, context, slots), daemon=True).start()


class HostileRedis:
    """Runs this program in MODE; ``port`` once started; ``stop()`` ends it."""

    def __init__(self, mode: str, tls: Optional[Tuple[str, str]] = None) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.tls = tls  # (certificate, key): rediss://
        self.port = 0
        self._process: Optional[subprocess.Popen] = None

    def start(self) -> "HostileRedis":
        self._process = subprocess.Popen([sys.executable, os.path.abspath(__file__), self.mode,
                                          *(self.tls or ())],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         start_new_session=True)
        assert self._process.stdout
        self.port = int(self._process.stdout.readline())
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        if self._process and self._process.stdout:
            self._process.stdout.close()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4) or sys.argv[1] not in MODES:
        sys.exit("usage: hostile_redis.py %s [CERTIFICATE KEY]" % "|".join(MODES))
    main(sys.argv[1], sys.argv[2:])
