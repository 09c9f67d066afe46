"""Runs the env output of every input of corpus/output in the real shells (dash, bash, zsh,
fish) and checks that IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT come out as the token
and expiry the input holds: the fuzz harness's quoting model, checked against the shells
themselves. PowerShell is not in Debian, so its quoting is checked by the harness only.
A token with a NUL byte is skipped: no shell variable can hold one. A shell that is not
installed is skipped, and the run says so.

    python3 real_shells.py PRINT_ENV CORPUS_DIR
"""

import os
import shutil
import subprocess
import sys
import tempfile

SHELLS = {
    "dash": ("sh", ["dash", "-c", '. "$1"; printf %s "$IOTSPOT_ACCESS_TOKEN"; '
                    'printf "\\n%s" "$IOTSPOT_TOKEN_EXPIRES_AT"', "dash"]),
    "bash": ("sh", ["bash", "-c", '. "$1"; printf %s "$IOTSPOT_ACCESS_TOKEN"; '
                    'printf "\\n%s" "$IOTSPOT_TOKEN_EXPIRES_AT"', "bash"]),
    "zsh": ("sh", ["zsh", "-fc", '. "$1"; printf %s "$IOTSPOT_ACCESS_TOKEN"; '
                   'printf "\\n%s" "$IOTSPOT_TOKEN_EXPIRES_AT"', "zsh"]),
    "fish": ("fish", ["fish", "--no-config", "-c", 'source $argv[1]; '
                      'printf %s $IOTSPOT_ACCESS_TOKEN; printf "\\n%s" $IOTSPOT_TOKEN_EXPIRES_AT']),
}


def expected(data: bytes) -> bytes:
    first, _, token = data.partition(b"\n")
    field = first.split(b" ")[0]
    try:
        expires_at = int(field) if len(field.lstrip(b"-")) <= 18 else 0
    except ValueError:
        expires_at = 0
    return token + b"\n" + str(expires_at).encode()


def installed_shells() -> dict:
    """The entries of SHELLS whose program is on PATH; each missing one is named on stdout."""
    found = {}
    for shell, (kind, argv) in SHELLS.items():
        if shutil.which(argv[0]) is None:
            print("real shells: %s skipped: %s is not installed" % (shell, argv[0]))
        else:
            found[shell] = (kind, argv)
    return found


def main() -> int:
    print_env, corpus = sys.argv[1], sys.argv[2]
    shells = installed_shells()
    failures = 0
    checked = 0
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir(),
           "LC_ALL": "C.UTF-8"}
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            data = f.read()
        if b"\0" in data.partition(b"\n")[2]:
            continue
        for shell, (kind, argv) in shells.items():
            text = subprocess.run([print_env, kind, os.path.join(corpus, name)],
                                  check=True, capture_output=True, timeout=10).stdout
            with tempfile.NamedTemporaryFile(suffix=".env") as script:
                script.write(text)
                script.flush()
                got = subprocess.run(argv + [script.name], capture_output=True, env=env,
                                     timeout=20)
            checked += 1
            if got.returncode != 0 or got.stdout != expected(data):
                failures += 1
                print("%s: %s read %r, expected %r (exit %d, stderr %r)" % (
                    name, shell, got.stdout, expected(data), got.returncode, got.stderr))
    print("real shells: %d runs, %d failures" % (checked, failures))
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
