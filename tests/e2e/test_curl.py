"""End-to-end tests of plugins/curl/iotspot-curl: curl with the iotspot Authorization header,
against the test token server's protected endpoint over real TLS (curl trusts the test CA
through --cacert), each test in its own HOME.

A wrapper named curl, first on PATH, records curl's argv (and whether each @/dev/fd/N it is
given is a pipe) before it execs /usr/bin/curl, so the tests can show that the token is in
no argv and in no file.
"""

import json
import os
import shutil
import subprocess

from support.harness import HelperTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
IOTSPOT_CURL = os.path.normpath(os.path.join(HERE, "..", "..", "plugins", "curl", "iotspot-curl"))
REAL_CURL = shutil.which("curl", path="/usr/bin:/bin")

NOT_CONFIGURED, REJECTED = 3, 4

CURL_WRAPPER = """#!/bin/sh
# Records curl's argv, NUL-separated, and the kind of every @/dev/fd/N argument.
for arg in "$@"; do
    printf '%s\\0' "$arg" >>'{argv}'
    case $arg in
    @/dev/fd/*) if [ -p "${{arg#@}}" ]; then echo pipe; else echo other; fi >>'{kinds}' ;;
    esac
done
exec '{curl}' "$@"
"""


class IotspotCurlTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.bindir = os.path.join(self.home, "bin")
        os.mkdir(self.bindir)
        self.argv_file = os.path.join(self.home, "curl-argv")
        self.kinds_file = os.path.join(self.home, "curl-fd-kinds")
        wrapper = os.path.join(self.bindir, "curl")
        with open(wrapper, "w") as f:
            f.write(CURL_WRAPPER.format(argv=self.argv_file, kinds=self.kinds_file, curl=REAL_CURL))
        os.chmod(wrapper, 0o755)
        # The helper on PATH as `iotspot-helper`, the way it is installed.
        os.symlink(self.bin, os.path.join(self.bindir, "iotspot-helper"))
        self.ping = self.server.api_url.rstrip("/") + "/v1/ping"

    def curl_env(self, **extra):
        return self.env(PATH=self.bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                        **extra)

    def iotspot_curl(self, *args, input=None, env=None, script=IOTSPOT_CURL):  # noqa: A002
        proc = subprocess.run([script, *args], input=input if input is not None else "",
                              env=env or self.curl_env(), cwd=self.home, text=True,
                              capture_output=True, timeout=60)
        self.assertNoSecrets(proc.stderr)
        return proc

    def recorded_argv(self):
        with open(self.argv_file, "rb") as f:
            return f.read().decode("utf-8").split("\0")[:-1]

    def test_the_request_carries_the_token_and_curls_answer_is_printed(self):
        self.configure()
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual(self.server.last_api_headers.get("Authorization"),
                         "Bearer " + self.server.issued_tokens[0])
        self.assertEqual(self.server.token_requests, 1)

    def test_the_token_is_in_no_argv_and_reaches_curl_through_a_pipe(self):
        self.configure()
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        argv = self.recorded_argv()
        self.assertNoSecrets("\n".join(argv))
        self.assertEqual(len(argv), 8)
        self.assertEqual(argv[0], "-H")
        self.assertRegex(argv[1], r"^@/dev/fd/[0-9]+$")
        self.assertEqual(argv[2], "-D")  # the response heads, to see a 401
        self.assertEqual(argv[4:], ["-sS", "--cacert", self.pki.ca_cert, self.ping])
        with open(self.kinds_file) as f:
            self.assertEqual(f.read(), "pipe\n")

    def test_arguments_reach_curl_unchanged(self):
        self.configure()
        odd = "X-Note: two  spaces, 'quotes', \"double\", $HOME, *, \\ and ;"
        out = os.path.join(self.home, "answer file.json")
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, "-H", odd, "-o", out,
                                 self.ping)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.last_api_headers.get("X-Note"), odd.split(": ", 1)[1])
        with open(out) as f:
            self.assertTrue(json.load(f)["ok"])

    def test_standard_input_is_left_to_curl(self):
        self.configure()
        # -d @- reads the data from stdin; with -G it becomes the query string.
        proc = self.iotspot_curl("-sS", "-o", "/dev/null", "-w", "%{url_effective}", "-G",
                                 "-d", "@-", "--cacert", self.pki.ca_cert, self.ping,
                                 input="from=stdin")
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(proc.stdout, self.ping + "?from=stdin")
        # -H @- reads more headers from stdin, next to the Authorization header.
        proc = self.iotspot_curl("-sS", "-H", "@-", "--cacert", self.pki.ca_cert, self.ping,
                                 input="X-From-Stdin: yes\n")
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.last_api_headers.get("X-From-Stdin"), "yes")
        self.assertTrue(self.server.last_api_headers.get("Authorization").startswith("Bearer "))

    def test_curls_exit_status_is_passed_through(self):
        self.configure()
        self.run_helper("token", check=True)
        # A 401 that a fresh token does not heal either.
        self.server.script_api([{"status": 401}] * 4)
        proc = self.iotspot_curl("-sS", "--fail", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, 22, self.redact(proc.stderr))
        self.assertIn("401", proc.stderr)
        # Without --fail a 401 is a successful transfer for curl.
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(json.loads(proc.stdout), {"message": "Unauthorized"})
        for args in (["--no-such-option", self.ping],  # 2: curl's usage error
                     [self.ping],                       # 60: the test CA is not trusted
                     ["--cacert", self.pki.ca_cert, "https://127.0.0.1:1/v1/ping"]):  # 7
            with self.subTest(args=args):
                plain = subprocess.run([REAL_CURL, "-sS", *args], capture_output=True,
                                       timeout=60, env=self.env())
                proc = self.iotspot_curl("-sS", *args)
                self.assertNotEqual(plain.returncode, 0)
                self.assertEqual(proc.returncode, plain.returncode, self.redact(proc.stderr))

    def test_a_refused_token_is_replaced_and_the_request_repeated_once(self):
        self.configure()
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        for fail in ([], ["--fail"]):
            with self.subTest(fail=fail):
                proc = self.iotspot_curl("-sS", *fail, "--cacert", self.pki.ca_cert, self.ping)
                self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
                # Only the final answer on stdout, one line on stderr saying what happened.
                self.assertEqual(json.loads(proc.stdout),
                                 {"ok": True, "client_id": self.client_id})
                self.assertIn("iotspot-curl: the API refused the cached token; repeating the "
                              "request once with a fresh one", proc.stderr)
                self.server.revoke_all()
        log = self.server.api_request_log
        self.assertEqual([e["status"] for e in log], [401, 200, 401, 200])
        self.assertEqual(log[0]["token"], refused)
        self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
        # Exactly one new token request per recovery.
        self.assertEqual(self.server.token_requests, 2)

    def test_a_401_that_persists_is_repeated_only_once(self):
        self.configure()
        self.server.script_api([{"status": 401, "body": '{"message":"first"}'},
                                {"status": 401, "body": '{"message":"second"}'}])
        proc = self.iotspot_curl("-sS", "-w", "[%{http_code}]", "--cacert", self.pki.ca_cert,
                                 self.ping)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(proc.stdout, '{"message":"second"}[401]')
        self.assertEqual(self.server.api_requests, 2)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_body_from_stdin_is_not_sent_twice_but_the_token_is_dropped(self):
        self.configure()
        self.run_helper("token", check=True)
        self.server.revoke_all()
        for args in (["-d", "@-"], ["--data-binary", "@-"], ["-T", "-"]):
            with self.subTest(args=args):
                self.server.reset_counters()
                proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, *args, self.ping,
                                         input='{"from":"stdin"}')
                self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
                self.assertEqual(json.loads(proc.stdout), {"message": "Unauthorized"})
                self.assertIn("dropped it, so the next run gets a fresh one", proc.stderr)
                self.assertEqual(self.server.api_requests, 1)
                # The next run fetches exactly one new token and gets through.
                proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, *args,
                                         self.ping, input='{"from":"stdin"}')
                self.assertEqual(json.loads(proc.stdout)["received"], '{"from":"stdin"}')
                self.assertEqual(self.server.token_requests, 1)
                self.server.revoke_all()

    def test_with_its_own_dump_header_the_command_runs_as_given(self):
        self.configure()
        self.run_helper("token", check=True)
        self.server.revoke_all()
        heads = os.path.join(self.home, "heads.txt")
        proc = self.iotspot_curl("-sS", "-D", heads, "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(json.loads(proc.stdout), {"message": "Unauthorized"})
        with open(heads) as f:
            self.assertTrue(f.read().startswith("HTTP/1.1 401 "))
        self.assertEqual(self.server.api_requests, 1)
        self.assertNotIn("-D", self.recorded_argv()[:2])

    def test_output_files_keep_the_users_umask(self):
        self.configure()
        out = os.path.join(self.home, "answer.json")
        proc = subprocess.run(["sh", "-c", 'umask 022 && exec "$0" "$@"', IOTSPOT_CURL, "-sS",
                               "--cacert", self.pki.ca_cert, "-o", out, self.ping],
                              env=self.curl_env(), cwd=self.home, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o644)

    def test_when_the_helper_fails_curl_does_not_run_and_its_status_is_returned(self):
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, NOT_CONFIGURED)
        self.assertIn("iotspot-helper: ", proc.stderr)
        self.assertIn("configure", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertFalse(os.path.exists(self.argv_file))

        self.configure(secret="not-the-secret")
        proc = self.iotspot_curl("-sS", "--cacert", self.pki.ca_cert, self.ping)
        self.assertEqual(proc.returncode, REJECTED)
        self.assertIn("invalid_client", proc.stderr)
        self.assertNoSecrets(proc.stderr, extra=["not-the-secret"])
        self.assertFalse(os.path.exists(self.argv_file))
        self.assertEqual(self.server.api_requests, 0)

    def test_the_profile_comes_from_iotspot_profile(self):
        other = self.start_server()
        self.configure()
        self.configure("staging", server=other)
        url = other.api_url.rstrip("/") + "/v1/ping"
        proc = self.iotspot_curl("-sS", "--fail", "--cacert", self.pki.ca_cert, url,
                                 env=self.curl_env(IOTSPOT_PROFILE="staging"))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual((other.token_requests, self.server.token_requests), (1, 0))
        self.assertEqual(other.last_api_headers.get("Authorization"),
                         "Bearer " + other.issued_tokens[0])

    def test_installed_beside_the_helper_it_needs_no_path_entry(self):
        self.configure()
        prefix_bin = os.path.join(self.home, "prefix", "bin")
        os.makedirs(prefix_bin)
        shutil.copy(IOTSPOT_CURL, prefix_bin)
        os.symlink(self.bin, os.path.join(prefix_bin, "iotspot-helper"))
        os.remove(os.path.join(self.bindir, "iotspot-helper"))  # not on PATH any more
        proc = self.iotspot_curl("-sS", "--fail", "--cacert", self.pki.ca_cert, self.ping,
                                 script=os.path.join(prefix_bin, "iotspot-curl"))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertTrue(json.loads(proc.stdout)["ok"])

    def test_iotspot_helper_names_the_helper(self):
        self.configure()
        os.remove(os.path.join(self.bindir, "iotspot-helper"))
        proc = self.iotspot_curl("-sS", self.ping)
        self.assertEqual(proc.returncode, 127)
        self.assertIn("IOTSPOT_HELPER", proc.stderr)
        proc = self.iotspot_curl("-sS", "--fail", "--cacert", self.pki.ca_cert, self.ping,
                                 env=self.curl_env(IOTSPOT_HELPER=self.bin))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
