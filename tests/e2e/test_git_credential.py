"""The git credential-helper protocol (get, store, erase): real git as the client, with
the helper configured each of the three ways git allows; with git 2.46 or later, bearer
credentials (capability[]=authtype) through `git credential fill` and a real git HTTPS
exchange against a local git server; and protocol transcripts (stdin, expected stdout,
expected stderr) run directly against the helper, for every git and for bad input."""

import json
import os
import re
import shlex
import shutil
import subprocess
import unittest

from support.git_server import GitServer
from support.harness import HelperTestCase, random_client_id, random_client_secret

USAGE, NOT_CONFIGURED, REJECTED = 2, 3, 4
GIT = shutil.which("git")
FORMAT_HINT = "expected key=value lines, see git-credential(1)"
FALLBACK = "!f() { echo username=fallback; echo password=fallback-password; }; f"


def git_version():
    if not GIT:
        return (0, 0)
    out = subprocess.run([GIT, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def parse(text):
    """key=value lines as a dict (the last value of a repeated key)."""
    return dict(line.split("=", 1) for line in text.splitlines() if line)


class CredentialTestCase(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.host = "127.0.0.1:%d" % self.server.port
        self.build_dir = os.path.dirname(self.bin)
        self.git_helper = os.path.join(self.build_dir, "git-credential-iotspot")
        self.gitconfig = os.path.join(self.home, "gitconfig")
        open(self.gitconfig, "w").close()

    def request(self, host=None, extra=""):
        return "protocol=https\nhost=%s\n%s\n" % (host or self.host, extra)

    def expires_at(self, profile="default"):
        """The expiry of the cached token, as `iotspot-helper env` reports it (a cache hit)."""
        out = self.run_helper("env", "--profile", profile, check=True).stdout
        return int(re.search(r"IOTSPOT_TOKEN_EXPIRES_AT='(\d+)'", out).group(1))

    def helper(self, command, stdin, *args, **kw):
        proc = self.run_helper(*args, command, input=stdin, timeout=20, **kw)
        self.assertNoSecrets(proc.stderr)
        return proc


class GitTestCase(CredentialTestCase):
    """Runs real git with its own global config file and no terminal prompt."""

    def git_env(self, path_with_build_dir=False):
        path = os.environ.get("PATH", "/usr/bin:/bin")
        if path_with_build_dir:
            path = self.build_dir + os.pathsep + path
        return self.env(GIT_CONFIG_GLOBAL=self.gitconfig, GIT_CONFIG_NOSYSTEM="1",
                        GIT_TERMINAL_PROMPT="0", PATH=path)

    def add_helper(self, value, scope=None):
        key = "credential.%shelper" % (scope + "." if scope else "")
        subprocess.run([GIT, "config", "--file", self.gitconfig, "--add", key, value],
                       check=True)

    def git_credential(self, action, stdin, env=None):
        proc = subprocess.run([GIT, "credential", action], input=stdin, capture_output=True,
                              text=True, env=env or self.git_env(), cwd=self.home, timeout=60)
        self.assertNoSecrets(proc.stderr)
        return proc

    def fill(self, host=None, env=None, extra=""):
        proc = self.git_credential("fill", self.request(host, extra), env)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        return proc, parse(proc.stdout)

    def assert_token_answer(self, answer):
        self.assertEqual(answer["username"], self.client_id)
        self.assertEqual(answer["password"], self.server.issued_tokens[-1])
        self.assertEqual(self.api_get(answer["password"])[0], 200)


@unittest.skipUnless(GIT, "git is not installed")
class RealGitTest(GitTestCase):
    """`git credential fill` and `reject` with credential.helper set the three ways."""

    def test_helper_by_name_found_on_path(self):
        self.configure()
        self.add_helper("iotspot", scope="https://" + self.host)
        env = self.git_env(path_with_build_dir=True)
        proc, answer = self.fill(env=env)
        self.assert_token_answer(answer)
        self.assertEqual(proc.stderr, "")
        _, again = self.fill(env=env)
        self.assertEqual(again["password"], answer["password"])
        self.assertEqual(self.server.token_requests, 1)

    def test_helper_by_full_path_with_options(self):
        # git passes the configured options to every operation: store and erase accept them.
        self.configure()
        self.add_helper(shlex.quote(self.git_helper) + " --min-ttl 600")
        proc, answer = self.fill()
        self.assert_token_answer(answer)
        for action in ("approve", "reject"):
            result = self.git_credential(action, proc.stdout)
            self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "", ""))
        _, again = self.fill()
        self.assertNotEqual(again["password"], answer["password"])
        self.assertEqual(self.server.token_requests, 2)

    def test_helper_as_command_with_profile(self):
        # "aaa" also matches the URL and comes first in name order, but its client is unknown
        # to the server: --profile makes "work" answer instead.
        self.configure("aaa", client_id=random_client_id(), secret=random_client_secret())
        self.configure("work")
        self.add_helper("!%s --profile work" % shlex.quote(self.bin))
        _, answer = self.fill()
        self.assert_token_answer(answer)

        proc = self.helper("get", self.request())
        self.assertEqual(proc.returncode, REJECTED)
        self.assertEqual(proc.stdout, "")

    def test_reject_makes_the_next_fill_fetch_a_new_token(self):
        self.configure()
        self.add_helper(self.git_helper)
        proc, first = self.fill()
        self.assertEqual(self.server.token_requests, 1)
        reject = self.git_credential("reject", proc.stdout)
        self.assertEqual(reject.returncode, 0, self.redact(reject.stderr))
        self.assertEqual(reject.stdout, "")
        self.assertEqual(self.server.token_requests, 1)
        _, second = self.fill()
        self.assertEqual(self.server.token_requests, 2)
        self.assertNotEqual(second["password"], first["password"])
        self.assert_token_answer(second)

    def test_other_hosts_fall_through_to_the_next_helper(self):
        self.configure()
        self.add_helper(self.git_helper)
        self.add_helper(FALLBACK)
        proc, answer = self.fill(host="git.example.com")
        self.assertEqual(answer["password"], "fallback-password")
        self.assertEqual(proc.stderr, "")
        other_port = "127.0.0.1:%d" % (self.server.port % 60000 + 1)
        _, answer = self.fill(host=other_port)
        self.assertEqual(answer["password"], "fallback-password")
        self.assertEqual(self.server.token_requests, 0)
        _, answer = self.fill()
        self.assert_token_answer(answer)

    def test_no_helper_answers_and_no_prompt(self):
        self.configure()
        self.add_helper(self.git_helper)
        proc = self.git_credential("fill", self.request("git.example.com"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertNotIn("password=", proc.stdout)
        self.assertEqual(self.server.token_requests, 0)

    def test_use_http_path_matches_the_api_url_path(self):
        self.configure(extra_args=["--api-url", self.server.api_url + "v1"])
        subprocess.run([GIT, "config", "--file", self.gitconfig, "credential.useHttpPath",
                        "true"], check=True)
        self.add_helper(self.git_helper)
        self.add_helper(FALLBACK)
        base = "https://%s/" % self.host
        _, answer = self.fill(extra="path=v1/devices/7\n")
        self.assert_token_answer(answer)
        proc = self.git_credential("fill", "url=%sv10/devices\n\n" % base)
        self.assertEqual(parse(proc.stdout)["password"], "fallback-password")
        proc = self.git_credential("fill", "url=%sv1/ping\n\n" % base)
        self.assert_token_answer(parse(proc.stdout))

    def test_a_failing_helper_reports_on_stderr_and_git_moves_on(self):
        self.configure(secret=random_client_secret())  # the server rejects it
        self.add_helper(self.git_helper)
        self.add_helper(FALLBACK)
        proc, answer = self.fill()
        self.assertEqual(answer["password"], "fallback-password")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("iotspot-helper: "), proc.stderr)



@unittest.skipUnless(git_version() >= (2, 46),
                     "bearer credentials (capability[]=authtype) need git 2.46 or later; this "
                     "git is %d.%d" % git_version())
class BearerGitTest(GitTestCase):
    """git 2.46+: the helper's token as a bearer credential, in `git credential fill` and in
    real git HTTPS requests to a git server that admits only a live bearer token."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        repos = os.path.join(cls.tmp, "repos")
        work = os.path.join(cls.tmp, "work")
        env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
                   GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
        for args in (["init", "-q", "-b", "main", work],
                     ["-C", work, "commit", "-q", "--allow-empty", "-m", "first"],
                     ["clone", "-q", "--bare", work, os.path.join(repos, "repo.git")]):
            subprocess.run([GIT, *args], check=True, env=env, timeout=60)
        cls.head = subprocess.run([GIT, "-C", work, "rev-parse", "HEAD"], check=True, env=env,
                                  capture_output=True, text=True).stdout.strip()
        cls.git_server = GitServer(cls.pki.server_cert, cls.pki.server_key, repos,
                                   cls.server).start()
        cls.addClassCleanup(cls.git_server.stop)

    def setUp(self):
        super().setUp()
        self.configure(extra_args=["--api-url", self.git_server.base_url])
        subprocess.run([GIT, "config", "--file", self.gitconfig, "http.sslCAInfo",
                        self.pki.ca_cert], check=True)
        self.git_server.reset()
        self.remote = self.git_server.url("repo.git")

    def ls_remote(self):
        proc = subprocess.run([GIT, "ls-remote", self.remote], capture_output=True, text=True,
                              env=self.git_env(), cwd=self.home, timeout=60)
        self.assertNoSecrets(proc.stderr)
        return proc

    def cached(self):
        out = self.run_helper("status", "--json", check=True).stdout
        return json.loads(out)["profiles"][0]["token"]["cached"]

    def test_fill_with_authtype_gets_a_bearer_credential_and_its_expiry(self):
        self.add_helper(self.git_helper)
        host = "127.0.0.1:%d" % self.git_server.port
        _, answer = self.fill(host=host, extra="capability[]=authtype\n")
        token = self.server.issued_tokens[-1]
        self.assertEqual(answer.get("authtype"), "Bearer")
        self.assertEqual(answer.get("credential"), token)
        self.assertEqual(int(answer.get("password_expiry_utc", 0)), self.expires_at())
        self.assertEqual(self.api_get(token)[0], 200)

        _, plain = self.fill(host=host)
        self.assertEqual(plain["username"], self.client_id)
        self.assertEqual(plain["password"], token)
        for key in ("authtype", "credential", "capability[]", "ephemeral"):
            self.assertNotIn(key, plain)
        self.assertEqual(self.server.token_requests, 1)

    def test_git_sends_the_helpers_token_as_a_bearer_header(self):
        proc = self.ls_remote()  # no helper: the server lets nothing through
        self.assertNotEqual(proc.returncode, 0)
        self.assertNotIn(self.head, proc.stdout)

        self.add_helper(self.git_helper, scope="https://127.0.0.1:%d" % self.git_server.port)
        proc = self.ls_remote()
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertIn("%s\trefs/heads/main" % self.head, proc.stdout)
        self.assertEqual(self.server.token_requests, 1)
        sent = self.git_server.bearer_tokens
        self.assertTrue(sent, "git sent no Authorization: Bearer")
        self.assertTrue(all(t == self.server.issued_tokens[-1] for t in sent),
                        "git sent a bearer token that is not the helper's")
        self.assertEqual(self.git_server.other_schemes, [])

    def test_a_401_to_a_live_token_makes_git_erase_it_and_the_next_command_fetch_one(self):
        self.add_helper(self.git_helper)
        self.assertEqual(self.ls_remote().returncode, 0)
        first = self.server.issued_tokens[-1]
        self.assertTrue(self.cached())

        self.git_server.refuse(first)  # still live at the token server, refused here
        proc = self.ls_remote()
        self.assertNotEqual(proc.returncode, 0)
        self.assertTrue(self.git_server.bearer_tokens[-1] == first, "git did not resend it")
        self.assertFalse(self.cached(), "git did not run erase after the 401")
        self.assertEqual(self.server.token_requests, 1)

        proc = self.ls_remote()
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.token_requests, 2)
        second = self.server.issued_tokens[-1]
        self.assertTrue(second != first, "the token server issued the same token twice")
        self.assertTrue(self.git_server.bearer_tokens[-1] == second,
                        "git did not send the fresh token")


class TranscriptTest(CredentialTestCase):
    """The helper's answers, byte for byte."""

    def setUp(self):
        super().setUp()
        self.configure()

    def test_get(self):
        proc = self.helper("get", self.request(), check=True)
        token = self.server.issued_tokens[-1]
        self.assertEqual(proc.stdout,
                         "username=%s\npassword=%s\npassword_expiry_utc=%d\n"
                         % (self.client_id, token, self.expires_at()))
        self.assertEqual(proc.stderr, "")
        self.assertEqual(self.api_get(token)[0], 200)

    def test_get_with_authtype_capability(self):
        proc = self.helper("get", self.request(extra="capability[]=authtype\n"), check=True)
        token = self.server.issued_tokens[-1]
        self.assertEqual(proc.stdout,
                         "capability[]=authtype\nauthtype=Bearer\ncredential=%s\nephemeral=1\n"
                         "username=%s\npassword=%s\npassword_expiry_utc=%d\n"
                         % (token, self.client_id, token, self.expires_at()))
        self.assertEqual(proc.stderr, "")

    def test_the_name_git_runs_gives_the_same_answer(self):
        first = self.helper("get", self.request(), check=True).stdout
        proc = subprocess.run([self.git_helper, "get"], input=self.request(), text=True,
                              capture_output=True, env=self.env(), timeout=20)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, first, ""))

    def test_crlf_url_arrays_and_unknown_keys(self):
        stdin = ("url=https://%s/v1/ping\r\nwwwauth[]=Bearer error=\"invalid_token\"\r\n"
                 "capability[]=authtype\r\ncapability[]=\r\nfuture_key=1\r\nquit=0\r\n\r\n"
                 % self.host)
        proc = self.helper("get", stdin, check=True)
        answer = parse(proc.stdout)
        self.assertEqual(answer["password"], self.server.issued_tokens[-1])
        self.assertNotIn("authtype", answer)  # the empty capability[]= cleared the array

    def test_a_blank_line_ends_the_request_while_stdin_stays_open(self):
        proc = subprocess.Popen([self.bin, "get"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env())
        try:
            proc.stdin.write(self.request() + "\n")
            proc.stdin.flush()
            self.assertEqual(proc.wait(timeout=20), 0)
            self.assertEqual(parse(proc.stdout.read())["password"],
                             self.server.issued_tokens[-1])
        finally:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                stream.close()

    def test_requests_for_others_get_no_answer(self):
        for stdin in (self.request("api.iotspot.co"),
                      "protocol=http\nhost=%s\n" % self.host,
                      "host=%s\n" % self.host,
                      "protocol=https\n",
                      self.request(extra="username=someone-else\n")):
            with self.subTest(stdin=stdin):
                proc = self.helper("get", stdin)
                self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.server.token_requests, 0)
        proc = self.helper("get", self.request(extra="username=%s\n" % self.client_id))
        self.assertEqual(parse(proc.stdout)["password"], self.server.issued_tokens[-1])

    def test_profile_option_never_answers_for_another_host(self):
        proc = self.helper("get", self.request("git.example.com"), "--profile", "default")
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        proc = self.helper("get", self.request(), env=self.env(IOTSPOT_PROFILE="other"))
        self.assertEqual((proc.returncode, proc.stdout), (0, ""))
        self.assertEqual(self.server.token_requests, 0)

    def test_a_named_profile_that_is_not_configured(self):
        proc = self.helper("get", self.request("api.iotspot.co"), "--profile", "nope")
        self.assertEqual(proc.returncode, NOT_CONFIGURED)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(len(proc.stderr.splitlines()), 1)
        self.assertIn('profile "nope" is not configured', proc.stderr)

    def test_erase_drops_the_matching_profiles_token(self):
        first = parse(self.helper("get", self.request(), check=True).stdout)["password"]
        proc = self.helper("erase", self.request("git.example.com", "password=x\n"))
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(parse(self.helper("get", self.request()).stdout)["password"], first)
        self.assertEqual(self.server.token_requests, 1)

        stdin = self.request(extra="username=%s\npassword=%s\n" % (self.client_id, first))
        proc = self.helper("erase", stdin)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        second = parse(self.helper("get", self.request()).stdout)["password"]
        self.assertNotEqual(second, first)
        self.assertEqual(self.server.token_requests, 2)

    def test_store_is_accepted_and_ignored(self):
        first = parse(self.helper("get", self.request(), check=True).stdout)["password"]
        stdin = self.request(extra="username=%s\npassword=stored-by-git\n" % self.client_id)
        proc = self.helper("store", stdin)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(parse(self.helper("get", self.request()).stdout)["password"], first)
        self.assertEqual(self.server.token_requests, 1)

    def test_verbose_says_why_without_the_token(self):
        proc = self.helper("get", self.request("git.example.com"), "--verbose", check=True)
        self.assertEqual(proc.stdout, "")
        self.assertIn("no profile answers https://git.example.com", proc.stderr)
        proc = self.helper("get", self.request(), "--verbose", check=True)
        self.assertIn(self.server.issued_tokens[-1], proc.stdout)
        self.assertIn('profile "default" answers https://%s' % self.host, proc.stderr)

    def test_git_name_ignores_operations_it_does_not_know(self):
        for args in (["capability"], ["some-future-operation", "--flag"], ["token"]):
            with self.subTest(args=args):
                proc = subprocess.run([self.git_helper, *args], input=self.request(), text=True,
                                      capture_output=True, env=self.env(), timeout=20)
                self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        proc = subprocess.run([self.git_helper], input="", text=True, capture_output=True,
                              env=self.env(), timeout=20)
        self.assertEqual(proc.returncode, USAGE)
        self.assertEqual(proc.stdout, "")
        self.assertIn("git-credential-iotspot get|store|erase", proc.stderr)
        self.assertEqual(self.server.token_requests, 0)


class EnvironmentOnlyTest(CredentialTestCase):
    """No config file: IOTSPOT_CLIENT_ID and friends, matched against the default api_url,
    which is https on iotspot.co and every host under it, and nothing else (docs/usage.md)."""

    def setUp(self):
        super().setUp()
        self.env_only = self.env(
            IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_CLIENT_SECRET=self.client_secret,
            IOTSPOT_TOKEN_URL=self.server.token_url, IOTSPOT_CA_FILE=self.pki.ca_cert)

    def test_env_configuration_answers_for_iotspot_co_and_every_host_under_it(self):
        for host in ("api.iotspot.co", "API.IotSpot.co:443", "iotspot.co", "app.iotspot.co",
                     "a.b.iotspot.co"):
            with self.subTest(host=host):
                proc = self.helper("get", self.request(host), env=self.env_only)
                self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
                answer = parse(proc.stdout)
                self.assertEqual(answer["username"], self.client_id)
                self.assertEqual(answer["password"], self.server.issued_tokens[-1])
        self.assertEqual(self.server.token_requests, 1)

    def test_the_default_api_url_matches_nothing_else(self):
        for stdin in (self.request(),
                      "protocol=http\nhost=api.iotspot.co\n",
                      self.request("evil-iotspot.co"),
                      self.request("iotspot.co.evil.example"),
                      self.request("api.iotspot.com"),
                      self.request("api.iotspot.co:8443"),
                      "url=https://evil.example/?x=.iotspot.co\n"):
            with self.subTest(stdin=stdin):
                proc = self.helper("get", stdin, env=self.env_only)
                self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.server.token_requests, 0)


class BadInputTest(CredentialTestCase):
    """Every bad input: a non-zero exit, one clear line on stderr, nothing on stdout."""

    def setUp(self):
        super().setUp()
        self.configure()

    def cases(self):
        request = self.request()
        long_line = "path=" + "a" * 70000
        many_lines = ("k=" + "v" * 1000 + "\n") * 3000
        return [
            ("no '='", request.replace("host=", "host ", 1),
             "credential input line 2 has no '='; " + FORMAT_HINT),
            ("NUL byte", "protocol=https\nhost=127.0.0.1\0:1\n",
             "credential input line 2 contains a NUL byte; " + FORMAT_HINT),
            ("line over 65535 bytes", "protocol=https\n" + long_line + "\n",
             "credential input line 2 is longer than 65535 bytes; " + FORMAT_HINT),
            ("one line of megabytes", "host=" + "h" * 3000000,
             "credential input line 1 is longer than 65535 bytes; " + FORMAT_HINT),
            ("megabytes of lines", request.rstrip("\n") + "\n" + many_lines,
             "credential input is larger than 1 MiB; " + FORMAT_HINT),
            ("stdin closed at once", "",
             "no credential request on standard input; expected key=value lines such as "
             "protocol=https and host=..., see git-credential(1)"),
            ("stdin closed in a line", "protocol=https\nhos",
             "credential input line 2 has no '='; " + FORMAT_HINT),
            ("url= not a URL", "url=api.iotspot.co\n",
             "credential input line 1 has a url= that is not scheme://host/path; "
             + FORMAT_HINT),
        ]

    def test_bad_input_transcripts(self):
        for command in ("get", "store", "erase"):
            for name, stdin, message in self.cases():
                with self.subTest(command=command, input=name):
                    proc = self.helper(command, stdin)
                    self.assertEqual((proc.returncode, proc.stdout, proc.stderr),
                                     (USAGE, "", "iotspot-helper: %s\n" % message))
        self.assertEqual(self.server.token_requests, 0)

    def test_bad_input_never_echoes_what_it_read(self):
        secret = random_client_secret()
        stdin = "protocol=https\nhost=%s\npassword=%s\npassword: %s\n" % (self.host, secret, secret)
        proc = self.helper("erase", stdin)
        self.assertEqual(proc.returncode, USAGE)
        self.assertIn("line 4 has no '='", proc.stderr)
        self.assertNoSecrets(proc.stderr, extra=[secret])

    def test_bad_min_ttl_is_a_usage_error_before_reading(self):
        proc = self.helper("get", self.request(), "--min-ttl", "soon")
        self.assertEqual((proc.returncode, proc.stdout), (USAGE, ""))
        self.assertIn("--min-ttl", proc.stderr)


if __name__ == "__main__":
    unittest.main()
