"""Token requests for K hosts x N callers, without and with the shared tier (scripts/bench.sh).

Starts the test token server and a redis-server (or valkey-server) on 127.0.0.1, gives each
simulated host a HOME of its own, starts every caller at once while the token server takes
0.5 s per answer (so they all overlap), and counts the token requests the server saw.
Prints a Markdown table. Usage: fleet_requests.py HELPER K N [K N ...]
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))

from support.pki import make_pki  # noqa: E402
from support.redis_server import RedisServer, installed_servers  # noqa: E402
from support.token_server import TokenServer  # noqa: E402


def configure(helper, home, server, pki, client_id, secret, redis):
    args = [helper, "configure", "--client-id", client_id, "--token-url", server.token_url,
            "--ca-file", pki.ca_cert, "--api-url", server.api_url, "--client-secret-stdin"]
    text = secret + "\n"
    if redis:
        args += ["--shared-cache", redis.url, "--redis-password-stdin"]
        text += redis.helper_password + "\n"
    subprocess.run(args, input=text, text=True, check=True, stdout=subprocess.DEVNULL,
                   env={"HOME": home, "PATH": os.environ["PATH"]})


def wave(helper, server, pki, client_id, secret, hosts, callers, redis, tmp):
    homes = []
    for _ in range(hosts):
        home = tempfile.mkdtemp(dir=tmp)
        configure(helper, home, server, pki, client_id, secret, redis)
        homes.append(home)
    server.reset_counters()
    procs = [subprocess.Popen([helper, "token"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={"HOME": h, "PATH": os.environ["PATH"]})
             for _ in range(callers) for h in homes]
    failed = sum(1 for p in procs if p.wait(120) != 0)
    if redis:
        redis.command("FLUSHALL")
    for home in homes:
        shutil.rmtree(home)
    return server.token_requests, failed


def main():
    helper, sizes = sys.argv[1], [int(x) for x in sys.argv[2:]]
    tmp = tempfile.mkdtemp(prefix="iotspot-fleet-bench-")
    try:
        pki = make_pki(os.path.join(tmp, "pki"))
        client_id, secret = "benchclient", "bench-secret-" + os.urandom(8).hex()
        server = TokenServer(pki.server_cert, pki.server_key, clients={client_id: secret},
                             expires_in=3600, delay=0.5)
        server.start()
        redis = RedisServer(installed_servers()[0], os.path.join(tmp, "redis")).start()
        print("| hosts x callers | token requests, local cache only | with the shared tier |")
        print("| --- | --- | --- |")
        for k, n in zip(sizes[::2], sizes[1::2]):
            alone, failed_alone = wave(helper, server, pki, client_id, secret, k, n, None, tmp)
            shared, failed_shared = wave(helper, server, pki, client_id, secret, k, n, redis, tmp)
            note = "" if failed_alone + failed_shared == 0 else " (%d callers failed)" % (
                failed_alone + failed_shared)
            print("| %d x %d | %d | %d%s |" % (k, n, alone, shared, note))
        redis.kill()
        server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
