"""Highly available Redis or Valkey on 127.0.0.1 for the fleet tests: Sentinel and Cluster.

Usage::

    ha = SentinelSet("redis-server", directory, sentinels=2)   # a primary, a replica
    ha.start()
    ha.url("helper")              # redis+sentinel://helper@127.0.0.1:p1,127.0.0.1:p2/mymaster
    ha.failover()                 # SENTINEL FAILOVER; returns once the replica is the primary
    ha.stop()

    cluster = ClusterSet("redis-server", directory)                  # three primaries
    cluster.start()               # redis-cli --cluster create (valkey-cli on Valkey)
    cluster.owner_of(key)         # the RedisServer that holds key's slot
    cluster.stop()

The servers are support.redis_server.RedisServer (the same ACL users, ``helper`` and
``admin``, with one password for all of a set's servers); the Sentinels run the same
program with --sentinel and watch the primary as ``admin``. Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any, List, Optional, Tuple

from support.redis_server import ADMIN_USER, RedisServer, RespError, free_port

__all__ = ["SentinelSet", "ClusterSet", "cli_program", "MASTER"]

MASTER = "mymaster"
WAIT = 30.0  # seconds for a set to come up or fail over: generous for a loaded machine


def cli_program(server_program: str) -> Optional[str]:
    """redis-cli beside redis-server, valkey-cli beside valkey-server."""
    name = server_program.replace("-server", "-cli")
    return shutil.which(name)


def wait_for(what: str, check: Any, seconds: float = WAIT) -> Any:
    """Polls check() until it returns something true; raises naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
            last = result
        except (OSError, RespError) as error:
            last = error
        time.sleep(0.1)
    raise RuntimeError("%s did not happen within %.0f s (last: %r)" % (what, seconds, last))


class Sentinel:
    """One Sentinel process watching MASTER."""

    def __init__(self, program: str, directory: str, primary: RedisServer,
                 tls: Optional[Tuple[str, str, str]]) -> None:
        self.program, self.directory, self.tls = program, directory, tls
        self.port = free_port()
        self.primary = primary
        self._process: Optional[subprocess.Popen] = None
        os.makedirs(directory, mode=0o700, exist_ok=True)

    def _config(self) -> str:
        lines = ["bind 127.0.0.1", "daemonize no", "dir %s" % self.directory,
                 "logfile %s" % os.path.join(self.directory, "sentinel.log"),
                 "sentinel monitor %s 127.0.0.1 %d 1" % (MASTER, self.primary.port),
                 "sentinel auth-user %s %s" % (MASTER, ADMIN_USER),
                 "sentinel auth-pass %s %s" % (MASTER, self.primary.admin_password),
                 "sentinel down-after-milliseconds %s 2000" % MASTER,
                 "sentinel failover-timeout %s 10000" % MASTER]
        if self.tls:
            cert, key, ca = self.tls
            lines += ["port 0", "tls-port %d" % self.port, "tls-cert-file %s" % cert,
                      "tls-key-file %s" % key, "tls-ca-cert-file %s" % ca,
                      "tls-auth-clients no", "tls-replication yes"]
        else:
            lines += ["port %d" % self.port]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        path = os.path.join(self.directory, "sentinel.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as conf:
            conf.write(self._config())
        self._process = subprocess.Popen([self.program, path, "--sentinel"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for("Sentinel on port %d" % self.port, lambda: self.primary_port() is not None)

    def kill(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)

    def command(self, *args: Any) -> Any:
        """A command to this Sentinel (it has no password)."""
        with RedisServer._connect(self) as sock:  # type: ignore[arg-type]
            stream = sock.makefile("rwb")
            RedisServer._send(stream, *args)
            return RedisServer._read(stream)

    hostname = "127.0.0.1"  # what RedisServer._connect verifies over TLS

    def primary_port(self) -> Optional[int]:
        answer = self.command("SENTINEL", "get-master-addr-by-name", MASTER)
        return int(answer[1]) if answer else None


class SentinelSet:
    """A primary, a replica and `sentinels` Sentinels."""

    def __init__(self, program: str, directory: str, sentinels: int = 2,
                 tls: Optional[Tuple[str, str, str]] = None) -> None:
        self.tls = tls
        self.primary = RedisServer(program, os.path.join(directory, "a"), tls=tls)
        self.replica = RedisServer(program, os.path.join(directory, "b"), tls=tls)
        self.replica.helper_password = self.primary.helper_password
        self.replica.admin_password = self.primary.admin_password
        for server in (self.primary, self.replica):
            server.extra_config += ["masteruser %s" % ADMIN_USER,
                                    "masterauth %s" % self.primary.admin_password]
            if tls:
                server.extra_config += ["tls-replication yes"]
        self.replica.extra_config += ["replicaof 127.0.0.1 %d" % self.primary.port]
        self.sentinels = [Sentinel(program, os.path.join(directory, "s%d" % i), self.primary, tls)
                          for i in range(sentinels)]

    @property
    def servers(self) -> List[RedisServer]:
        return [self.primary, self.replica]

    def start(self) -> "SentinelSet":
        self.primary.start()
        self.replica.start()
        wait_for("replication", lambda: "master_link_status:up" in
                 self.replica.command("INFO", "replication").decode())
        for sentinel in self.sentinels:
            sentinel.start()
        return self

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.kill()
        for server in self.servers:
            server.kill()

    def url(self, user: str, first: Optional[int] = None) -> str:
        """The shared_cache URL; `first`, a port to name before the Sentinels (one where
        nothing listens, say)."""
        ports = ([first] if first else []) + [s.port for s in self.sentinels]
        scheme = "rediss+sentinel" if self.tls else "redis+sentinel"
        return "%s://%s@%s/%s" % (scheme, user,
                                  ",".join("127.0.0.1:%d" % port for port in ports), MASTER)

    def current_primary(self) -> RedisServer:
        port = self.sentinels[0].primary_port()
        return next(server for server in self.servers if server.port == port)

    def failover(self) -> RedisServer:
        """SENTINEL FAILOVER, once a Sentinel sees a good replica; returns the new primary
        once every Sentinel names it, it says it is a primary and the old one a replica."""
        old = self.current_primary()
        new = next(server for server in self.servers if server is not old)

        def forced() -> bool:
            try:
                return self.sentinels[0].command("SENTINEL", "FAILOVER", MASTER) == "OK"
            except RespError as error:
                if "NOGOODSLAVE" in str(error) or "INPROG" in str(error):
                    return False
                raise
        wait_for("SENTINEL FAILOVER accepted", forced)
        wait_for("the failover", lambda: all(s.primary_port() == new.port
                                             for s in self.sentinels)
                 and new.command("ROLE")[0] == b"master")
        # The Sentinels turn the old primary into a replica a moment later.
        wait_for("the old primary's demotion", lambda: old.command("ROLE")[0] == b"slave")
        return new


class ClusterSet:
    """Three primaries, each with its own cluster bus port, made one Cluster by the CLI."""

    def __init__(self, program: str, directory: str, nodes: int = 3) -> None:
        self.program = program
        self.nodes = [RedisServer(program, os.path.join(directory, "n%d" % i))
                      for i in range(nodes)]
        for node in self.nodes:
            node.helper_password = self.nodes[0].helper_password
            node.admin_password = self.nodes[0].admin_password
            node.extra_config += ["cluster-enabled yes", "cluster-config-file nodes.conf",
                                  "cluster-port %d" % free_port(), "cluster-node-timeout 5000"]

    def start(self) -> "ClusterSet":
        for node in self.nodes:
            node.start()
        cli = cli_program(self.program)
        if not cli:
            raise RuntimeError("no CLI beside %s" % self.program)
        env = dict(os.environ, REDISCLI_AUTH=self.nodes[0].admin_password)
        subprocess.run([cli, "--user", ADMIN_USER, "--cluster", "create",
                        *("127.0.0.1:%d" % node.port for node in self.nodes), "--cluster-yes"],
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, check=True, timeout=WAIT)
        for node in self.nodes:
            wait_for("cluster_state:ok on port %d" % node.port, lambda node=node:
                     b"cluster_state:ok" in node.command("CLUSTER", "INFO"))
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    def flush(self) -> None:
        for node in self.nodes:
            node.command("FLUSHALL")

    def node_at(self, port: int) -> RedisServer:
        return next(node for node in self.nodes if node.port == port)

    def owner_of(self, key: bytes) -> RedisServer:
        slot = self.nodes[0].command("CLUSTER", "KEYSLOT", key)
        for start, end, primary, *_ in self.nodes[0].command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return self.node_at(int(primary[1]))
        raise RuntimeError("no node serves slot %d" % slot)

    def keys(self) -> List[Tuple[RedisServer, bytes]]:
        """Every key of every node, with its node."""
        found = []
        for node in self.nodes:
            cursor: Any = b"0"
            while True:
                cursor, keys = node.command("SCAN", cursor, "COUNT", 1000)
                found += [(node, key) for key in keys]
                if cursor in (b"0", "0"):
                    break
        return found
