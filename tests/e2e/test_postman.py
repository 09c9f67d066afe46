"""End-to-end tests of plugins/postman: the shipped sample collection (whose collection-level
pre-request script is plugins/postman/pre-request.js) run by newman, the runtime the Postman
app itself uses, against the test token server's protected endpoint, with tokens from a
running `iotspot-helper serve`. The environment is the shipped sample environment with the
test's URLs and key filled in, written to a 0600 file (the key never goes on a command line).
"""

import json
import os

from support.api_clients import PLUGINS, ApiClientTestCase, free_port, node_tool

POSTMAN = os.path.join(PLUGINS, "postman")
COLLECTION = os.path.join(POSTMAN, "iotspot.postman_collection.json")
ENVIRONMENT = os.path.join(POSTMAN, "iotspot.postman_environment.json")


class PostmanTest(ApiClientTestCase):
    def setUp(self):
        super().setUp()
        self.newman = node_tool("newman")
        self.collection = os.path.join(self.home, "iotspot.postman_collection.json")
        with open(COLLECTION) as src, open(self.collection, "w") as dst:
            dst.write(src.read())

    def environment(self, **values):
        """The shipped sample environment with ``values`` filled in, as a file in HOME."""
        with open(ENVIRONMENT) as f:
            environment = json.load(f)
        keys = {item["key"] for item in environment["values"]}
        self.assertLessEqual(set(values), keys, "the sample environment lacks a variable")
        for item in environment["values"]:
            if item["key"] in values:
                item["value"] = values[item["key"]]
        path = os.path.join(self.home, "environment.json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(environment, f)
        return path

    def newman_run(self, environment, iterations=1):
        return self.run_tool([self.newman, "run", self.collection, "--environment", environment,
                              "--ssl-extra-ca-certs", self.pki.ca_cert,
                              "--iteration-count", str(iterations), "--color", "off"],
                             env=self.env())

    def serve_requests(self, method="GET"):
        with open(self.serve_log) as f:
            return [line for line in f if " %s /v1/token" % method in line]

    def test_the_sample_collection_embeds_pre_request_js(self):
        with open(COLLECTION) as f:
            collection = json.load(f)
        for listen, name in (("prerequest", "pre-request.js"), ("test", "post-response.js")):
            scripts = [event["script"]["exec"] for event in collection["event"]
                       if event["listen"] == listen]
            self.assertEqual(len(scripts), 1)
            with open(os.path.join(POSTMAN, name)) as f:
                self.assertEqual("\n".join(scripts[0]) + "\n", f.read(),
                                 "run scripts/embed-plugin-scripts.js")
        self.assertEqual(collection["auth"], {"type": "noauth"})
        with open(ENVIRONMENT) as f:
            environment = {item["key"]: item for item in json.load(f)["values"]}
        self.assertEqual(environment["iotspot_helper_key"]["type"], "secret")
        self.assertEqual(environment["iotspot_helper_key"]["value"], "")
        self.assertEqual(environment["iotspot_helper_url"]["value"], "http://127.0.0.1:47381")

    def test_requests_carry_a_token_fetched_once_for_the_whole_run(self):
        self.configure()
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment, iterations=3)
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(proc.stdout.count("✓  the API accepted the token"), 3, proc.stdout)
        self.assertEqual(self.server.api_requests, 3)
        self.assertEqual(self.server.last_api_headers.get("Authorization"),
                         "Bearer " + self.server.issued_tokens[0])
        # One token request at the token server (the helper's cache), and one call of serve
        # (the script's cache): iterations 2 and 3 made no call at all.
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(len(self.serve_requests()), 1)
        self.assertNoSecretsInFiles(self.home)

    def test_a_second_run_reuses_the_helpers_cached_token(self):
        self.configure()
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_api_url=self.server.base_url)
        for _ in range(2):
            proc = self.newman_run(environment)
            self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(self.server.api_requests, 2)
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(len(self.serve_requests()), 2)

    def test_a_refused_token_is_dropped_and_the_next_request_gets_a_fresh_one(self):
        self.configure()
        url, key = self.start_serve()
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment, iterations=3)
        # The first request was refused (its test fails); the next ones got a fresh token.
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(proc.stdout.count("✓  the API accepted the token"), 2, proc.stdout)
        self.assertIn("iotspot: the API refused the token; dropped it", proc.stdout)
        log = self.server.api_request_log
        self.assertEqual([e["status"] for e in log], [401, 200, 200])
        self.assertEqual(log[0]["token"], refused)
        self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        self.assertEqual(len(self.serve_requests("DELETE")), 1)
        self.assertEqual(len(self.serve_requests()), 2)
        self.assertNoSecrets(proc.stdout + proc.stderr)

    def test_iotspot_profile_picks_the_profile(self):
        self.configure("default", secret="not-the-secret")
        self.configure("second")
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_profile="second",
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertEqual(proc.returncode, 0, self.describe(proc))
        self.assertEqual(self.server.api_requests, 1)
        self.assertEqual(self.server.token_requests, 1)

    def test_a_wrong_key_is_named_and_nothing_is_sent(self):
        self.configure()
        url, key = self.start_serve()
        wrong = "0" * 64 if key != "0" * 64 else "1" * 64
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=wrong,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("refused iotspot_helper_key (wrong_key)", proc.stdout)
        self.assertIn("iotspot-helper serve --print-key", proc.stdout)
        self.assertNotIn(wrong, proc.stdout + proc.stderr)
        self.assertEqual(self.server.api_requests, 0)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_missing_key_is_named(self):
        self.configure()
        environment = self.environment(iotspot_helper_url="http://127.0.0.1:%d" % free_port(),
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("iotspot: the variable iotspot_helper_key is not set", proc.stdout)
        self.assertEqual(self.server.api_requests, 0)

    def test_serve_not_running_is_named(self):
        self.configure()
        environment = self.environment(iotspot_helper_url="http://127.0.0.1:%d" % free_port(),
                                       iotspot_helper_key="a" * 64,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("iotspot: cannot reach iotspot-helper serve at http://127.0.0.1:",
                      proc.stdout)
        self.assertIn("start it with `iotspot-helper serve`", proc.stdout)
        self.assertEqual(self.server.api_requests, 0)

    def test_a_profile_that_is_not_configured_is_named(self):
        self.configure()
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_profile="nope",
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("answered 404 not_configured", proc.stdout)
        self.assertIn('profile "nope" is not configured', proc.stdout)
        self.assertEqual(self.server.api_requests, 0)

    def test_rejected_credentials_are_named(self):
        self.configure(secret="not-the-secret")
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("answered 502 token_server", proc.stdout)
        self.assertIn("invalid_client", proc.stdout)
        self.assertEqual(self.server.api_requests, 0)

    def test_no_token_goes_over_plain_http_to_another_machine(self):
        self.configure()
        url, key = self.start_serve()
        environment = self.environment(iotspot_helper_url=url, iotspot_helper_key=key,
                                       iotspot_api_url="http://api.example.invalid")
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("refusing to send the token over plain http to api.example.invalid",
                      proc.stdout)
        self.assertEqual(self.serve_requests(), [])

    def test_the_key_goes_only_to_this_machine(self):
        self.configure()
        environment = self.environment(iotspot_helper_url="http://helper.example.invalid:47381",
                                       iotspot_helper_key="a" * 64,
                                       iotspot_api_url=self.server.base_url)
        proc = self.newman_run(environment)
        self.assertNotEqual(proc.returncode, 0, self.describe(proc))
        self.assertIn("iotspot_helper_url must be http://127.0.0.1:PORT", proc.stdout)
        self.assertNotIn("helper.example.invalid:47381/v1/token", proc.stdout)
        self.assertEqual(self.server.api_requests, 0)
