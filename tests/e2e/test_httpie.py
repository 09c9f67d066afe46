"""End-to-end tests of plugins/httpie: the auth plugin installed by plugins/httpie/install.sh
into this test's HOME (HTTPie's per-user plugin directory, ~/.config/httpie/plugins), then
Debian's HTTPie (`http --auth-type=iotspot`) against the test token server's protected
endpoint, trusting the test CA with --verify. A recording iotspot-helper first on PATH shows
each run of the helper and its argv.
"""

import json
import os
import shutil

from support.api_clients import PLUGINS, ApiClientTestCase

INSTALL = os.path.join(PLUGINS, "httpie", "install.sh")
HTTP = shutil.which("http", path="/usr/bin:/bin")


class HttpieTest(ApiClientTestCase):
    def setUp(self):
        super().setUp()
        if HTTP is None:
            self.fail("Debian's httpie is not installed; run scripts/bootstrap.sh")
        proc = self.run_tool([INSTALL], env=self.env())
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("installed the iotspot HTTPie plugin into %s/.config/httpie/plugins/"
                      % self.home, proc.stdout)

    def http(self, *args, env=None):
        return self.run_tool([HTTP, "--ignore-stdin", "--verify", self.pki.ca_cert,
                              "--auth-type=iotspot", *args],
                             env=env or self.env(PATH=self.helper_on_path()))

    def test_requests_carry_the_helpers_token(self):
        self.configure()
        for _ in range(3):
            proc = self.http("GET", self.ping)
            self.assertEqual(proc.returncode, 0, self.describe(proc))
            self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual(self.server.last_api_headers.get("Authorization"),
                         "Bearer " + self.server.issued_tokens[0])
        self.assertEqual(self.helper_calls(), [["token", "--json"]] * 3)
        self.assertEqual(self.server.token_requests, 1)
        self.assertNoSecretsInFiles(self.home)

    def test_dash_a_picks_the_profile(self):
        self.configure("second")
        proc = self.http("-a", "second", "GET", self.ping)
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(self.helper_calls(), [["--profile", "second", "token", "--json"]])

    def test_without_dash_a_iotspot_profile_applies(self):
        self.configure("second")
        proc = self.http("GET", self.ping, env=self.env(PATH=self.helper_on_path(),
                                                         IOTSPOT_PROFILE="second"))
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(self.helper_calls(), [["token", "--json"]])

    def test_a_session_file_keeps_the_profile_not_the_token(self):
        self.configure()
        for _ in range(2):
            proc = self.http("--session", "iotspot", "-a", "default", "GET", self.ping)
            self.assertEqual(proc.returncode, 0, self.describe(proc))
        sessions = os.path.join(self.home, ".config", "httpie", "sessions")
        [session] = [os.path.join(d, f) for d, _, files in os.walk(sessions) for f in files]
        with open(session) as f:
            self.assertEqual(json.load(f)["auth"], {"type": "iotspot", "raw_auth": "default"})
        self.assertNoSecretsInFiles(self.home)
        self.assertEqual(self.server.token_requests, 1)

    def revoke_cached_token(self):
        """Caches a token, has the API refuse it, and forgets what was recorded so far."""
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        return refused

    def assertReplayedOnce(self, proc, refused):  # noqa: N802
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("iotspot: the API refused the cached token; repeating the request once "
                      "with a fresh one", proc.stderr)
        log = self.server.api_request_log
        self.assertEqual([e["status"] for e in log], [401, 200])
        self.assertEqual(log[0]["token"], refused)
        self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        self.assertEqual(self.helper_calls(),
                         [["token", "--json"], ["logout"], ["token", "--json"]])

    def test_a_refused_token_is_replaced_and_the_request_replayed_once(self):
        self.configure()
        refused = self.revoke_cached_token()
        proc = self.http("GET", self.ping)
        self.assertReplayedOnce(proc, refused)
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})

    def test_a_body_from_stdin_is_sent_again_after_a_401(self):
        self.configure()
        refused = self.revoke_cached_token()
        body = '{"name": "desk 4"}'
        proc = self.run_tool([HTTP, "--verify", self.pki.ca_cert, "--auth-type=iotspot",
                              "POST", self.ping], input=body,
                             env=self.env(PATH=self.helper_on_path()))
        self.assertReplayedOnce(proc, refused)
        self.assertEqual(json.loads(proc.stdout)["received"], body)
        self.assertEqual([e["body"] for e in self.server.api_request_log],
                         [body.encode()] * 2)

    def test_a_401_that_persists_is_replayed_only_once(self):
        self.configure()
        self.server.script_api([{"status": 401}, {"status": 401}])
        proc = self.http("GET", self.ping)
        self.assertEqual(proc.returncode, 0, self.describe(proc))  # no --check-status
        self.assertEqual(self.server.api_requests, 2)
        self.assertEqual(json.loads(proc.stdout), {"message": "Unauthorized"})

    def test_the_helpers_message_is_shown_when_not_configured(self):
        proc = self.http("GET", self.ping)
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn('IotspotTokenError: iotspot-helper: profile "default" is not configured; '
                      "run: iotspot-helper configure", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(self.server.api_requests, 0)

    def test_rejected_credentials_are_named(self):
        self.configure(secret="not-the-secret")
        proc = self.http("GET", self.ping)
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn("invalid_client", proc.stderr)
        self.assertNoSecrets(proc.stderr, extra=["not-the-secret"])
        self.assertEqual(self.server.api_requests, 0)

    def test_a_missing_helper_is_named(self):
        self.configure()
        missing = os.path.join(self.home, "no-such-helper")
        proc = self.http("GET", self.ping, env=self.env(IOTSPOT_HELPER=missing))
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn("IotspotTokenError: IOTSPOT_HELPER is %s, which cannot be run" % missing,
                      proc.stderr)
        installed = shutil.which("iotspot-helper", path="/usr/local/bin:/usr/bin:/bin")
        if installed:
            self.skipTest("this machine has an iotspot-helper installed: %s" % installed)
        proc = self.http("GET", self.ping, env=self.env(PATH="/usr/bin:/bin"))
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn("IotspotTokenError: iotspot-helper is not installed", proc.stderr)
        self.assertEqual(self.server.api_requests, 0)

    def test_no_token_goes_over_plain_http_to_another_machine(self):
        self.configure()
        proc = self.http("GET", "http://api.example.invalid/v1/ping")
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn("refusing to send the token over plain http to api.example.invalid",
                      proc.stderr)
        self.assertEqual(self.helper_calls(), [])

    def test_a_host_that_only_starts_with_127_is_not_loopback(self):
        # The same rule as the JS plugins: localhost, ::1, or a dotted 127.x.y.z address.
        self.configure()
        for host in ("127.example.com", "127.0.0.1.example.com", "127.0.0.1.nip.io",
                     "127.1"):
            with self.subTest(host=host):
                proc = self.http("GET", "http://%s/v1/ping" % host)
                self.assertEqual(proc.returncode, 1, self.describe(proc))
                self.assertIn("refusing to send the token over plain http to %s" % host,
                              proc.stderr)
        self.assertEqual(self.helper_calls(), [])

    def test_install_is_repeatable_and_uninstall_removes_the_auth_type(self):
        proc = self.run_tool([INSTALL], env=self.env())
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        proc = self.run_tool([HTTP, "--help"], env=self.env())
        self.assertIn('"iotspot": iotspot token (iotspot-helper) (provided by httpie-iotspot)',
                      proc.stdout)
        proc = self.run_tool([INSTALL, "--uninstall"], env=self.env())
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        proc = self.http("GET", self.ping)
        self.assertEqual(proc.returncode, 1, self.describe(proc))
        self.assertIn("invalid choice: 'iotspot'", proc.stderr)
        plugins = os.path.join(self.home, ".config", "httpie", "plugins")
        self.assertEqual([f for _, _, files in os.walk(plugins) for f in files], [])
