"""How a consumer gets its token, side by side in one run: reading the file that `sink` keeps
fresh (in the consumer's own process: no process start), `iotspot-helper token` (a cache
hit) and `git credential-store get`, each run from the consumer as a child process.
Prints medians and ratios to the file read. Nothing here is a test.

    token_file_bench.py HELPER TOKEN_FILE GIT_CREDENTIALS REQUEST RUNS
"""

import statistics
import subprocess
import sys
import time

helper, token_file, git_credentials, request, runs = sys.argv[1:6]
runs = int(runs)


def read_file():
    with open(token_file) as f:
        return f.read().strip()


def helper_token():
    return subprocess.run([helper, "token"], stdout=subprocess.PIPE, check=True).stdout


def git_get():
    with open(request, "rb") as stdin:
        return subprocess.run(["git", "credential-store", "--file", git_credentials, "get"],
                              stdin=stdin, stdout=subprocess.PIPE, check=True).stdout


def median_ms(function):
    for _ in range(min(20, runs)):
        function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


cases = [("read the token file (in process)", median_ms(read_file)),
         ("iotspot-helper token (cache hit, a child process)", median_ms(helper_token)),
         ("git credential-store get (a child process)", median_ms(git_get))]
base = cases[0][1]
print("| how the consumer gets the token | median | ratio to reading the file |")
print("| --- | --- | --- |")
for name, ms in cases:
    print("| %s | %.4f ms | %.0fx |" % (name, ms, ms / base))
