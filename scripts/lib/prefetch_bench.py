"""`prefetch --all` of P profiles, one at a time (--jobs 1) against the default 8 workers
(scripts/bench.sh).

Starts the test token server on 127.0.0.1, answering each token request after DELAY seconds
(a stand-in for the token endpoint's latency; the figure is an assumption, not Cognito's),
configures P profiles of one client in a HOME of its own, and times RUNS runs of each, the
cache emptied (`logout --all`) before every run. Prints a Markdown table of medians and the
ratio. Usage: prefetch_bench.py HELPER P DELAY RUNS
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))

from support.pki import make_pki  # noqa: E402
from support.token_server import TokenServer  # noqa: E402


def run(helper, home, *args, stdin=None):
    subprocess.run([helper, *args], input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={"HOME": home, "PATH": os.environ["PATH"]})


def median_seconds(helper, home, jobs, runs):
    times = []
    for _ in range(runs):
        run(helper, home, "logout", "--all")
        started = time.monotonic()
        run(helper, home, "prefetch", "--all", "--jobs", str(jobs))
        times.append(time.monotonic() - started)
    return statistics.median(times)


def main():
    helper, profiles, delay, runs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    tmp = tempfile.mkdtemp(prefix="iotspot-prefetch-bench-")
    try:
        pki = make_pki(os.path.join(tmp, "pki"))
        client_id, secret = "benchclient", "bench-secret-" + os.urandom(8).hex()
        server = TokenServer(pki.server_cert, pki.server_key, clients={client_id: secret},
                             expires_in=3600, delay=delay)
        server.start()
        home = os.path.join(tmp, "home")
        os.mkdir(home, 0o700)
        for i in range(profiles):
            run(helper, home, "--profile", "p%02d" % i, "configure", "--client-id", client_id,
                "--token-url", server.token_url, "--ca-file", pki.ca_cert,
                "--api-url", server.api_url, "--client-secret-stdin", stdin=secret + "\n")
        one = median_seconds(helper, home, 1, runs)
        eight = median_seconds(helper, home, 8, runs)
        server.stop()
        print("| prefetch --all, %d profiles, token server answering in %.1f s | median wall time |"
              % (profiles, delay))
        print("| --- | --- |")
        print("| --jobs 1 | %.2f s |" % one)
        print("| --jobs 8 (the default) | %.2f s |" % eight)
        print()
        print("prefetch, --jobs 8 / --jobs 1: %.2fx (%.1f times faster)" % (eight / one, one / eight))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
