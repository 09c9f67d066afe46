"""End-to-end tests of plugins/bruno: a copy of the shipped sample collection (whose
collection-level pre-request script is plugins/bruno/pre-request.js) run by Bruno's CLI,
`bru run`, against the test token server's protected endpoint:

- in Safe Mode (`--sandbox safe`, QuickJS) with tokens from a running `iotspot-helper serve`,
  the key in the process environment (IOTSPOT_HELPER_KEY) or in the Bruno environment;
- in Developer Mode without a key, where the script runs the helper itself; a recording
  iotspot-helper first on PATH shows how often and with which arguments.

The test environment file (environments/test.bru) holds the URLs; the key never goes on a
command line.
"""

import json
import os
import shutil
import subprocess

from support.api_clients import PLUGINS, REPO, ApiClientTestCase, free_port, node_tool

BRUNO = os.path.join(PLUGINS, "bruno")
COLLECTION = os.path.join(BRUNO, "iotspot-collection")
BRUNO_LANG = os.path.join(REPO, "build-node", "node_modules", "@usebruno", "lang")
REQUEST = "Example request.bru"


class BrunoTest(ApiClientTestCase):
    def setUp(self):
        super().setUp()
        self.bru = node_tool("bru")
        self.collection = self.copy_tree(COLLECTION, "collection")

    def bru_env(self, **variables):
        """environments/test.bru of the copied collection, with ``variables``."""
        lines = ["vars {"] + ["  %s: %s" % item for item in variables.items()] + ["}", ""]
        path = os.path.join(self.collection, "environments", "test.bru")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("\n".join(lines))

    def bru_run(self, sandbox, requests=1, env=None):
        """`bru run` of the sample request ``requests`` times in one run (one iteration:
        bru starts every iteration with fresh runtime variables)."""
        return self.run_tool([self.bru, "run", *[REQUEST] * requests, "--env", "test",
                              "--sandbox", sandbox, "--cacert", self.pki.ca_cert],
                             env=env or self.env(), cwd=self.collection)

    def serve_requests(self, method="GET"):
        with open(self.serve_log) as f:
            return [line for line in f if " %s /v1/token" % method in line]

    def assertRecovered(self, proc, refused):  # noqa: N802
        """The first of three requests was refused, the next two got one fresh token."""
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(proc.stdout.count("✓ the API accepted the token"), 2,
                         self.describe(proc))
        log = self.server.api_request_log
        self.assertEqual([e["status"] for e in log], [401, 200, 200])
        self.assertEqual(log[0]["token"], refused)
        self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        self.assertNoSecrets(proc.stdout + proc.stderr)

    def assertPassed(self, proc, requests):  # noqa: N802
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(proc.stdout.count("✓ the API accepted the token"), requests,
                         self.describe(proc))
        self.assertEqual(self.server.api_requests, requests)
        self.assertEqual(self.server.last_api_headers.get("Authorization"),
                         "Bearer " + self.server.issued_tokens[0])

    def assertFailedWith(self, proc, *messages):  # noqa: N802
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        for message in messages:
            self.assertIn(message, proc.stdout + proc.stderr)
        self.assertEqual(self.server.api_requests, 0, "the request was sent anyway")

    def test_the_sample_collection_embeds_pre_request_js(self):
        script = ("const lang = require(%s);\n"
                  "const fs = require('fs');\n"
                  "const json = lang.collectionBruToJson(fs.readFileSync(%s, 'utf8'));\n"
                  "process.stdout.write(JSON.stringify(json));\n"
                  % (json.dumps(BRUNO_LANG), json.dumps(os.path.join(COLLECTION,
                                                                      "collection.bru"))))
        proc = subprocess.run(["node", "-e", script], capture_output=True, text=True,
                              timeout=60, check=True)
        collection = json.loads(proc.stdout)
        for part, name in (("req", "pre-request.js"), ("res", "post-response.js")):
            with open(os.path.join(BRUNO, name)) as f:
                self.assertEqual(collection["script"][part] + "\n", f.read(),
                                 "run scripts/embed-plugin-scripts.js")
        self.assertEqual(collection["auth"]["mode"], "none")
        with open(os.path.join(COLLECTION, "environments", "local.bru")) as f:
            local = f.read()
        self.assertIn("iotspot_helper_url: http://127.0.0.1:47381", local)
        self.assertIn("vars:secret [\n  iotspot_helper_key\n]", local)

    def test_safe_mode_gets_the_token_from_serve_once_per_run(self):
        self.configure()
        url, key = self.start_serve()
        self.bru_env(iotspot_helper_url=url, iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", requests=3, env=self.env(IOTSPOT_HELPER_KEY=key))
        self.assertPassed(proc, 3)
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(len(self.serve_requests()), 1)
        self.assertNoSecretsInFiles(self.home)

    def test_safe_mode_with_the_key_in_the_bruno_environment(self):
        self.configure("second")
        url, key = self.start_serve()
        self.bru_env(iotspot_helper_url=url, iotspot_helper_key=key, iotspot_profile="second",
                     iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe")
        self.assertPassed(proc, 1)
        self.assertEqual(self.server.token_requests, 1)
        self.assertIn('profile "second"', "".join(self.serve_requests()))

    def test_developer_mode_runs_the_helper_once_per_run(self):
        self.configure()
        self.bru_env(iotspot_api_url=self.server.base_url)
        env = self.env(PATH=self.helper_on_path())
        proc = self.bru_run("developer", requests=3, env=env)
        self.assertPassed(proc, 3)
        self.assertEqual(self.helper_calls(), [["token", "--json"]])
        self.assertEqual(self.server.token_requests, 1)
        proc = self.bru_run("developer", env=env)
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(self.server.token_requests, 1, "the helper's cache was not used")
        self.assertNoSecretsInFiles(self.home)

    def test_safe_mode_drops_a_refused_token_through_serve(self):
        self.configure()
        url, key = self.start_serve()
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        self.bru_env(iotspot_helper_url=url, iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", requests=3, env=self.env(IOTSPOT_HELPER_KEY=key))
        self.assertRecovered(proc, refused)
        self.assertEqual(len(self.serve_requests("DELETE")), 1)
        self.assertEqual(len(self.serve_requests()), 2)

    def test_developer_mode_drops_a_refused_token_with_the_helper(self):
        self.configure()
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        self.bru_env(iotspot_api_url=self.server.base_url)
        proc = self.bru_run("developer", requests=3, env=self.env(PATH=self.helper_on_path()))
        self.assertRecovered(proc, refused)
        self.assertEqual(self.helper_calls(),
                         [["token", "--json"], ["logout"], ["token", "--json"]])

    def test_developer_mode_passes_the_profile(self):
        self.configure("second")
        self.bru_env(iotspot_profile="second", iotspot_api_url=self.server.base_url)
        proc = self.bru_run("developer", env=self.env(PATH=self.helper_on_path()))
        self.assertPassed(proc, 1)
        self.assertEqual(self.helper_calls(), [["--profile", "second", "token", "--json"]])

    def test_safe_mode_without_a_key_says_what_to_do(self):
        self.configure()
        self.bru_env(iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", env=self.env(PATH=self.helper_on_path()))
        self.assertFailedWith(proc, "iotspot: the environment variable iotspot_helper_key is "
                                    "not set", "iotspot-helper serve --print-key",
                              "Developer Mode")
        self.assertEqual(self.helper_calls(), [])

    def test_a_wrong_key_is_named(self):
        self.configure()
        url, _key = self.start_serve()
        self.bru_env(iotspot_helper_url=url, iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", env=self.env(IOTSPOT_HELPER_KEY="0" * 64))
        self.assertFailedWith(proc, "refused iotspot_helper_key (wrong_key)",
                              "iotspot-helper serve --print-key")
        self.assertEqual(self.server.token_requests, 0)

    def test_serve_not_running_is_named(self):
        self.configure()
        self.bru_env(iotspot_helper_url="http://127.0.0.1:%d" % free_port(),
                     iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", env=self.env(IOTSPOT_HELPER_KEY="a" * 64))
        self.assertFailedWith(proc, "iotspot: cannot reach iotspot-helper serve at "
                                    "http://127.0.0.1:", "start it with `iotspot-helper serve`")

    def test_serve_names_a_profile_that_is_not_configured(self):
        self.configure()
        url, key = self.start_serve()
        self.bru_env(iotspot_helper_url=url, iotspot_profile="nope",
                     iotspot_api_url=self.server.base_url)
        proc = self.bru_run("safe", env=self.env(IOTSPOT_HELPER_KEY=key))
        self.assertFailedWith(proc, "answered 404 not_configured",
                              'profile "nope" is not configured')

    def test_developer_mode_names_a_missing_helper(self):
        self.configure()
        missing = os.path.join(self.home, "no-such-helper")
        self.bru_env(iotspot_helper_path=missing, iotspot_api_url=self.server.base_url)
        proc = self.bru_run("developer")
        self.assertFailedWith(proc, "iotspot: iotspot_helper_path names %s, which cannot be "
                                    "run" % missing)

    def test_developer_mode_without_the_helper_anywhere_says_to_install_it(self):
        self.bru_env(iotspot_api_url=self.server.base_url)
        node_dir = os.path.dirname(os.path.realpath(shutil.which("node")))
        installed = shutil.which("iotspot-helper",
                                 path=node_dir + ":/usr/local/bin:/usr/bin:/bin")
        if installed:
            self.skipTest("this machine has an iotspot-helper installed: %s" % installed)
        proc = self.bru_run("developer", env=self.env(PATH=node_dir + ":/usr/bin:/bin"))
        self.assertFailedWith(proc, "iotspot: iotspot-helper is not installed",
                              "set iotspot_helper_key to use `iotspot-helper serve`")

    def test_developer_mode_passes_on_the_helpers_message(self):
        self.bru_env(iotspot_api_url=self.server.base_url)
        proc = self.bru_run("developer", env=self.env(PATH=self.helper_on_path()))
        self.assertFailedWith(proc, 'iotspot: iotspot-helper: profile "default" is not '
                                    "configured; run: iotspot-helper configure")

    def test_no_token_goes_over_plain_http_to_another_machine(self):
        self.configure()
        self.bru_env(iotspot_api_url="http://api.example.invalid")
        proc = self.bru_run("developer", env=self.env(PATH=self.helper_on_path()))
        self.assertFailedWith(proc, "refusing to send the token over plain http to "
                                    "api.example.invalid")
        self.assertEqual(self.helper_calls(), [])
