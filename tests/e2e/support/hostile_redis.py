"""A hostile RESP server on 127.0.0.1: answers AUTH, SELECT, PING, SET and EVAL as Redis
would, and GET with one of the replies that once crashed, stalled or ballooned the helper.

Run as a program (the tests start it with HostileRedis below)::

    python3 hostile_redis.py MODE        # prints the port on the first line of stdout

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
import subprocess
import sys
import threading
import time
from typing import List, Optional

LIFETIME = 120
MEMORY_LIMIT = 256 * 1024 * 1024
COMMAND_LIMIT = 1024 * 1024
MAX_CONNECTIONS = 32
ESCAPE_AND_BELL = b"-ERR \x1b[31mred\x1b[0m and a bell\x07\r\n"
MODES = ("nested", "drip", "huge", "error", "array")


def _read_line(stream, budget: List[int]) -> bytes:
    line = stream.readline(budget[0])
    budget[0] -= len(line)
    if not line.endswith(b"\r\n"):
        raise EOFError
    return line[:-2]


def _read_command(stream) -> List[bytes]:
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


def _answer_get(mode: str, conn: socket.socket) -> None:
    if mode == "nested":
        conn.sendall(b"*1\r\n" * 200000)
    elif mode == "drip":
        conn.sendall(b"$1000\r\n")
        for _ in range(1000):
            time.sleep(0.2)
            conn.sendall(b"x")
    elif mode == "huge":
        conn.sendall(b"$2000000000\r\nabc")
    elif mode == "error":
        conn.sendall(ESCAPE_AND_BELL)
    elif mode == "array":
        conn.sendall(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")


def _serve(mode: str, conn: socket.socket, slots: threading.Semaphore) -> None:
    try:
        with conn, conn.makefile("rb") as stream:
            while True:
                words = _read_command(stream)
                name = words[0].upper() if words else b""
                if name == b"GET":
                    _answer_get(mode, conn)
                elif name == b"PING":
                    conn.sendall(b"+PONG\r\n")
                elif name == b"EVAL":
                    conn.sendall(b":1\r\n")
                else:
                    conn.sendall(b"+OK\r\n")
    except (OSError, EOFError, ValueError, IndexError):
        pass
    finally:
        slots.release()


def main(mode: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
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
        threading.Thread(target=_serve, args=(mode, conn, slots), daemon=True).start()


class HostileRedis:
    """Runs this program in MODE; ``port`` once started; ``stop()`` ends it."""

    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.port = 0
        self._process: Optional[subprocess.Popen] = None

    def start(self) -> "HostileRedis":
        self._process = subprocess.Popen([sys.executable, os.path.abspath(__file__), self.mode],
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
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit("usage: hostile_redis.py %s" % "|".join(MODES))
    main(sys.argv[1])
