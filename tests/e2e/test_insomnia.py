"""Tests of plugins/insomnia, the Insomnia plugin, in Node.

The Insomnia app itself cannot run here (an Electron desktop app), so
support/insomnia_driver.js loads the plugin package as Insomnia does and calls its request
hook and template tag with context objects shaped like Insomnia's documented plugin API;
it then sends the resulting request to the test token server's protected endpoint over real
TLS. A recording iotspot-helper first on PATH shows every run of the helper and its argv
(the token must never be in one). The plugin keeps its cache in the memory of that one Node
process, as it would in Insomnia's.
"""

import json
import os
import shutil

from support.api_clients import PLUGINS, ApiClientTestCase

INSOMNIA = os.path.join(PLUGINS, "insomnia")
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support",
                      "insomnia_driver.js")


def hook(url, **environment):
    return {"hook": {"url": url, "environment": environment}}


class InsomniaTest(ApiClientTestCase):
    def drive(self, *steps, env=None):
        """Runs ``steps`` in one Node process; returns (plugin description, results)."""
        document = json.dumps({"plugin": INSOMNIA, "ca": self.pki.ca_cert, "steps": steps})
        proc = self.run_tool(["node", DRIVER], input=document,
                             env=env or self.env(PATH=self.helper_on_path()))
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertNoSecrets(proc.stdout)
        output = json.loads(proc.stdout)
        for result in output["results"]:
            self.assertEqual(result["storeWrites"], 0, "the plugin wrote to Insomnia's store")
        return output["plugin"], output["results"]

    def assertSentWithToken(self, result):  # noqa: N802
        self.assertIsNone(result["error"])
        self.assertEqual(result["authorization"], "bearer")
        self.assertEqual((result["status"], json.loads(result["body"])),
                         (200, {"ok": True, "client_id": self.client_id}))

    def test_the_package_is_an_insomnia_plugin(self):
        with open(os.path.join(INSOMNIA, "package.json")) as f:
            package = json.load(f)
        self.assertTrue(package["name"].startswith("insomnia-plugin-"))
        self.assertTrue(os.path.isfile(os.path.join(INSOMNIA, package["main"])))
        self.assertEqual(package["insomnia"]["name"], "iotspot")
        self.assertNotIn("dependencies", package)
        plugin, _results = self.drive()
        self.assertEqual(plugin["requestHooks"], 1)
        self.assertEqual(plugin["responseHooks"], 1)
        self.assertEqual(plugin["templateTags"], [{"name": "iotspotToken",
                                                   "displayName": "iotspot token", "args": 1,
                                                   "disablePreview": True}])

    def test_requests_to_the_profiles_api_url_get_a_token_and_the_helper_runs_once(self):
        self.configure()
        _plugin, results = self.drive(*[hook(self.ping)] * 3,
                                      hook(self.server.api_url + "v1/devices?page=2"))
        for result in results:
            self.assertSentWithToken(result)
        self.assertEqual(self.server.last_api_headers.get("Authorization"),
                         "Bearer " + self.server.issued_tokens[0])
        # `get` once per URL path: the plugin's cache answers the second and third request.
        self.assertEqual(self.helper_calls(), [["get"], ["get"]])
        self.assertEqual(self.server.token_requests, 1)
        self.assertNoSecretsInFiles(self.home)

    def test_a_refused_token_is_dropped_and_the_next_request_gets_a_fresh_one(self):
        self.configure()
        self.configure("second", extra_args=["--api-url", "https://api.example.invalid/"])
        for name, environment, drop in (("default", {}, ["erase"]),
                                        ("second", {"iotspot_profile": "second"},
                                         ["--profile", "second", "logout"])):
            with self.subTest(profile=name):
                refused = self.run_helper("--profile", name, "token", check=True).stdout.strip()
                self.server.revoke_all()
                self.server.reset_counters()
                if os.path.exists(self.calls_file):
                    os.remove(self.calls_file)
                _plugin, results = self.drive(*[hook(self.ping, **environment)] * 3)
                self.assertEqual([r["status"] for r in results], [401, 200, 200])
                log = self.server.api_request_log
                self.assertEqual(log[0]["token"], refused)
                self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
                self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
                fetch = ["get"] if name == "default" else ["--profile", "second", "token",
                                                           "--json"]
                self.assertEqual(self.helper_calls(), [fetch, drop, fetch])

    def test_requests_to_other_hosts_are_left_alone(self):
        self.configure()
        other = self.start_server()  # https on another port: no profile's api_url
        other_ping = other.api_url + "v1/ping"
        _plugin, results = self.drive(hook(other_ping), hook(other_ping),
                                      hook("http://api.example.invalid/v1/ping"),
                                      hook("ftp://127.0.0.1/file"))
        for result in results:
            self.assertIsNone(result["error"])
            self.assertEqual(result["authorization"], "absent")
        self.assertEqual([r["status"] for r in results[:2]], [401, 401])
        self.assertIsNone(other.last_api_headers.get("Authorization"))
        # One `get` for the other host, remembered; plain http to another machine and other
        # schemes are not even asked about.
        self.assertEqual(self.helper_calls(), [["get"]])
        self.assertEqual(self.server.token_requests, 0)

    def test_an_environment_that_names_a_profile_sends_its_token(self):
        # The profile's api_url is elsewhere, so only iotspot_profile can send its token here.
        self.configure("second", extra_args=["--api-url", "https://api.example.invalid/"])
        _plugin, results = self.drive(hook(self.ping, iotspot_profile="second"),
                                      hook(self.ping, iotspot_profile="second"),
                                      hook(self.ping))
        self.assertSentWithToken(results[0])
        self.assertSentWithToken(results[1])
        self.assertEqual(results[2]["authorization"], "absent")
        self.assertEqual(self.helper_calls(),
                         [["--profile", "second", "token", "--json"], ["get"]])
        self.assertEqual(self.server.token_requests, 1)

    def test_no_token_goes_over_plain_http_to_another_machine(self):
        self.configure()
        _plugin, results = self.drive(
            hook("http://api.example.invalid/v1/ping", iotspot_profile="default"),
            hook("http://api.iotspot.co/v1/ping"))
        self.assertEqual([r["error"] for r in results],
                         ["iotspot: refusing to send the token over plain http to %s; use "
                          "https://" % host
                          for host in ("api.example.invalid", "api.iotspot.co")])
        self.assertEqual(self.helper_calls(), [])

    def test_a_request_with_its_own_authorization_is_left_alone(self):
        self.configure()
        _plugin, results = self.drive(
            {"hook": {"url": self.ping, "headers": {"authorization": "Basic bWluZTptaW5l"}}},
            {"hook": {"url": self.ping, "auth": {"type": "basic", "username": "u"}}},
            {"hook": {"url": self.ping, "auth": {"type": "bearer", "disabled": True}}})
        self.assertEqual([r["authorization"] for r in results], ["other", "absent", "bearer"])
        self.assertEqual([r["status"] for r in results], [401, 401, 200])
        self.assertEqual(self.helper_calls(), [["get"]])

    def test_the_template_tag_renders_a_token(self):
        self.configure()
        self.configure("second")
        _plugin, results = self.drive(
            {"tag": {"name": "iotspotToken", "args": [""], "url": self.ping}},
            {"tag": {"name": "iotspotToken", "args": ["second"], "url": self.ping}},
            {"tag": {"name": "iotspotToken", "args": [""], "url": self.ping,
                     "environment": {"iotspot_profile": "second"}}})
        for result in results:
            self.assertSentWithToken(result)
        self.assertEqual(self.helper_calls(), [["token", "--json"],
                                               ["--profile", "second", "token", "--json"]])
        self.assertEqual(self.server.token_requests, 2)

    def test_a_missing_helper_matters_only_for_iotspot_requests(self):
        self.configure()
        missing = os.path.join(self.home, "no-such-helper")
        _plugin, results = self.drive(
            hook(self.ping, iotspot_helper_path=missing),
            hook("https://api.iotspot.co/v1/ping", iotspot_helper_path=missing),
            hook(self.ping, iotspot_helper_path=missing, iotspot_profile="default"))
        self.assertIsNone(results[0]["error"])
        self.assertEqual((results[0]["authorization"], results[0]["status"]), ("absent", 401))
        message = "iotspot: iotspot_helper_path is %s, which cannot be run" % missing
        self.assertEqual([r["error"] for r in results[1:]], [message, message])
        self.assertEqual(self.server.token_requests, 0)

    def test_without_the_helper_anywhere_iotspot_requests_say_to_install_it(self):
        node_dir = os.path.dirname(os.path.realpath(shutil.which("node")))
        installed = shutil.which("iotspot-helper",
                                 path=node_dir + ":/usr/local/bin:/usr/bin:/bin")
        if installed:
            self.skipTest("this machine has an iotspot-helper installed: %s" % installed)
        _plugin, results = self.drive(hook("https://api.iotspot.co/v1/ping"),
                                      hook(self.ping),
                                      env=self.env(PATH=node_dir + ":/usr/bin:/bin"))
        self.assertIn("iotspot: iotspot-helper is not installed", results[0]["error"])
        self.assertIn("set iotspot_helper_path", results[0]["error"])
        self.assertIsNone(results[1]["error"])
        self.assertEqual(results[1]["authorization"], "absent")

    def test_the_helpers_messages_reach_the_user(self):
        _plugin, results = self.drive(
            hook("https://api.iotspot.co/v1/ping"),
            hook(self.ping, iotspot_profile="nope"))
        self.assertEqual(results[0]["error"],
                         "iotspot: no iotspot-helper profile has an api_url matching "
                         "https://api.iotspot.co; run `iotspot-helper configure "
                         "--api-url https://api.iotspot.co ...`, or set "
                         "iotspot_profile in the environment")
        self.assertIn('iotspot: iotspot-helper: profile "nope" is not configured; run: '
                      "iotspot-helper configure", results[1]["error"])
        self.assertEqual(self.server.api_requests, 0)

    def test_rejected_credentials_are_reported_and_nothing_is_sent(self):
        self.configure(secret="not-the-secret")
        _plugin, results = self.drive(hook(self.ping))
        self.assertIn("invalid_client", results[0]["error"])
        self.assertTrue(results[0]["error"].startswith("iotspot: iotspot-helper: "))
        self.assertFalse(results[0]["sent"])
        self.assertEqual(self.server.api_requests, 0)
