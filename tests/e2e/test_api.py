"""End-to-end tests of `iotspot-helper api`: one request to the iotspot API with the
profile's token, against the test token server's protected API over real TLS (the profile's
ca_file is the test CA), each test in its own HOME."""

import json
import os
import time

from support.harness import HelperTestCase

USAGE, API_ERROR = 2, 7


class ApiTest(HelperTestCase):
    def api(self, *args, input=None, env=None, check=None):  # noqa: A002
        proc = self.run_helper("api", *args, input=input, env=env, check=check)
        self.assertNoSecrets(proc.stdout)
        self.assertNoSecrets(proc.stderr)
        return proc

    def statuses(self):
        return [entry["status"] for entry in self.server.api_request_log]

    def test_a_path_goes_to_the_profiles_api_with_the_token(self):
        self.configure()
        proc = self.api("/v1/ping", check=True)
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual(proc.stderr, "")
        self.assertEqual(self.server.last_api_path, "/v1/ping")
        self.assertEqual(self.server.api_request_log[0]["token"], self.server.issued_tokens[0])
        self.api("/v1/ping", check=True)
        self.assertEqual(self.server.token_requests, 1)

    def test_a_full_url_of_the_profiles_api_is_accepted(self):
        self.configure()
        proc = self.api(self.server.api_url + "v1/devices?page=2", check=True)
        self.assertTrue(json.loads(proc.stdout)["ok"])
        self.assertEqual(self.server.last_api_path, "/v1/devices")

    def test_a_refused_token_is_dropped_and_the_request_sent_once_more(self):
        self.configure()
        refused = self.run_helper("token", check=True).stdout.strip()
        self.server.revoke_all()
        self.server.reset_counters()
        proc = self.api("/v1/ping", check=True)
        self.assertEqual(json.loads(proc.stdout), {"ok": True, "client_id": self.client_id})
        self.assertEqual(self.statuses(), [401, 200])
        log = self.server.api_request_log
        self.assertEqual(log[0]["token"], refused)
        self.assertEqual(log[1]["token"], self.server.issued_tokens[0])
        self.assertEqual(self.server.token_requests, 1, "exactly one new token request")
        # The fresh token is the cached one now.
        self.assertEqual(self.run_helper("token", check=True).stdout.strip(),
                         self.server.issued_tokens[0])

    def test_a_post_body_from_stdin_is_sent_again_after_a_401(self):
        self.configure()
        self.run_helper("token", check=True)
        self.server.revoke_all()
        self.server.reset_counters()
        body = '{"name":"desk 4","tags":["a","b"]}'
        proc = self.api("-X", "POST", "--data", "@-", "/v1/things", input=body, check=True)
        self.assertEqual(json.loads(proc.stdout)["received"], body)
        log = self.server.api_request_log
        self.assertEqual(self.statuses(), [401, 200])
        self.assertEqual([(e["method"], e["body"]) for e in log],
                         [("POST", body.encode()), ("POST", body.encode())])
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(self.server.last_api_headers.get("Content-Type"), "application/json")

    def test_data_from_a_file_or_the_command_line_and_other_methods(self):
        self.configure()
        path = os.path.join(self.home, "body.json")
        with open(path, "w") as f:
            f.write('{"from":"file"}')
        proc = self.api("--data", "@" + path, "-X", "put", "-H", "Content-Type: text/plain",
                        "/v1/things/1", check=True)
        answer = json.loads(proc.stdout)
        self.assertEqual((answer["method"], answer["received"]), ("PUT", '{"from":"file"}'))
        self.assertEqual(self.server.last_api_headers.get("Content-Type"), "text/plain")
        proc = self.api("--data", "a=1", "/v1/things", check=True)
        self.assertEqual(json.loads(proc.stdout)["method"], "POST")
        proc = self.api("-X", "DELETE", "-H", "X-Trace: 7", "-H", "Accept: text/plain",
                        "/v1/things/1", check=True)
        self.assertEqual(json.loads(proc.stdout)["method"], "DELETE")
        self.assertEqual(self.server.last_api_headers.get("X-Trace"), "7")
        self.assertEqual(self.server.last_api_headers.get_all("Accept"), ["text/plain"])

    def test_a_429_with_retry_after_is_waited_out(self):
        self.configure()
        self.server.script_api([{"status": 429, "retry_after": 1}])
        started = time.monotonic()
        proc = self.api("/v1/ping", check=True)
        self.assertGreaterEqual(time.monotonic() - started, 1.0, "it did not wait")
        self.assertTrue(json.loads(proc.stdout)["ok"])
        self.assertEqual(self.statuses(), [429, 200])

    def test_a_503_with_retry_after_is_waited_out_and_one_without_is_an_error(self):
        self.configure()
        self.server.script_api([{"status": 503, "retry_after": 1}])
        self.api("/v1/ping", check=True)
        self.assertEqual(self.statuses(), [503, 200])
        self.server.reset_counters()
        self.server.script_api([{"status": 503}])
        proc = self.api("/v1/ping", check=API_ERROR)
        self.assertEqual(json.loads(proc.stdout), {"message": "Service Unavailable"})
        self.assertEqual(self.statuses(), [503])

    def test_a_wait_longer_than_iotspot_timeout_fails_with_one_line(self):
        self.configure()
        self.server.script_api([{"status": 429, "retry_after": 30,
                                 "body": '{"message":"slow down"}'}])
        proc = self.api("/v1/ping", env=self.env(IOTSPOT_TIMEOUT="3"), check=API_ERROR)
        self.assertEqual(proc.stdout, '{"message":"slow down"}')
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("429", lines[0])
        self.assertIn("IOTSPOT_TIMEOUT", lines[0])
        self.assertEqual(self.server.api_requests, 1)

    def test_an_api_error_prints_the_body_and_exits_7(self):
        self.configure()
        self.server.script_api([{"status": 404, "body": '{"message":"no such desk"}'}])
        proc = self.api("/v1/desks/9", check=API_ERROR)
        self.assertEqual(proc.stdout, '{"message":"no such desk"}')
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertIn("the API answered GET %sv1/desks/9 -> 404" % self.server.api_url,
                      proc.stderr)
        # A 401 that a fresh token does not heal either is an API error too, after one retry.
        self.server.reset_counters()
        self.server.script_api([{"status": 401}, {"status": 401}])
        proc = self.api("/v1/ping", check=API_ERROR)
        self.assertEqual(self.statuses(), [401, 401])
        self.assertEqual(self.server.token_requests, 1)

    def test_another_host_or_plain_http_is_refused_without_sending_anything(self):
        self.configure()
        other = self.start_server()
        other_url = other.api_url + "v1/ping"
        plain = self.server.api_url.replace("https://", "http://") + "v1/ping"
        for target in (other_url, plain, "https://user@" + other_url[len("https://"):],
                       "v1/ping"):
            with self.subTest(target=target):
                proc = self.api(target, check=USAGE)
                self.assertEqual(proc.stdout, "")
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("plain http", self.api(plain).stderr)
        self.assertEqual((other.api_requests, other.token_requests), (0, 0))
        self.assertEqual((self.server.api_requests, self.server.token_requests), (0, 0))

    def test_redirects_are_not_followed_with_the_token(self):
        self.configure()
        other = self.start_server()
        self.server.script_api([{"status": 302, "body": "",
                                 "headers": {"Location": other.api_url + "v1/ping"}}])
        proc = self.api("--include", "/v1/ping", check=True)
        self.assertTrue(proc.stdout.startswith("HTTP/1.1 302 "), proc.stdout)
        self.assertIn("Location: " + other.api_url + "v1/ping", proc.stdout)
        self.assertIn("redirects are not followed", proc.stderr)
        self.assertEqual(other.api_requests, 0)

    def test_include_prints_the_status_line_and_headers_first(self):
        self.configure()
        proc = self.api("-i", "/v1/ping", check=True)
        # Text mode reads the CRLF line ends as "\n".
        head, _, body = proc.stdout.partition("\n\n")
        lines = head.split("\n")
        self.assertEqual(lines[0], "HTTP/1.1 200 OK")
        self.assertIn("Content-Type: application/json;charset=UTF-8", lines)
        self.assertEqual(json.loads(body)["ok"], True)

    def test_head_prints_the_head_only(self):
        self.configure()
        proc = self.api("-X", "HEAD", "--include", "/v1/ping", check=True)
        head, _, body = proc.stdout.partition("\n\n")
        self.assertTrue(head.startswith("HTTP/1.1 200 OK\n"), proc.stdout)
        self.assertEqual(body, "")
        self.assertEqual(self.server.api_request_log[0]["method"], "HEAD")

    def test_verbose_shows_method_url_status_and_timing_but_never_the_token(self):
        self.configure()
        self.run_helper("token", check=True)
        self.server.revoke_all()
        proc = self.api("--verbose", "-X", "POST", "--data", "{}", "/v1/ping", check=True)
        self.assertRegex(proc.stderr, r"api: POST %sv1/ping -> 401 \([0-9.]+ s\)"
                         % self.server.api_url.replace(".", r"\."))
        self.assertIn("-> 200 (", proc.stderr)
        self.assertIn("fetching a fresh one", proc.stderr)

    def test_bad_command_lines_are_usage_errors(self):
        self.configure()
        for args in (["-H", "Authorization: Bearer mine", "/v1/ping"], ["-H", "NoColon", "/v1"],
                     ["-X", "GE T", "/v1/ping"], [], ["/v1/a", "/v1/b"],
                     ["--data", "@" + os.path.join(self.home, "missing"), "/v1/ping"]):
            with self.subTest(args=args):
                proc = self.api(*args, check=USAGE)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.api_requests, 0)

    def test_a_body_over_16_mib_is_refused_before_sending(self):
        self.configure()
        proc = self.api("--data", "@-", "/v1/things", input="x" * (16 * 1024 * 1024 + 1),
                        check=USAGE)
        self.assertIn("16 MiB", proc.stderr)
        self.assertEqual(self.server.api_requests, 0)

    def test_an_unreachable_api_is_a_network_error(self):
        self.configure()
        other = self.start_server()
        port = other.port
        other.stop()
        self.configure("gone", extra_args=["--api-url", "https://127.0.0.1:%d/" % port])
        proc = self.api("--profile", "gone", "/v1/ping", check=5)
        self.assertEqual(proc.stderr, "iotspot-helper: connection to the API 127.0.0.1:%d was "
                         "refused; check api_url\n" % port)
        self.assertEqual(proc.stdout, "")

    def test_the_token_fetched_after_a_401_keeps_to_the_commands_iotspot_timeout(self):
        # Each token request takes 4 s; the command has 6 s in all. The fetch after the 401
        # has the 2 s left, not 6 s of its own: it is cut off, and the command fails within
        # IOTSPOT_TIMEOUT instead of answering after about 8 s.
        self.configure()
        self.server.set(delay=4)
        self.server.script_api([{"status": 401}])
        proc = self.api("/v1/ping", env=self.env(IOTSPOT_TIMEOUT="6"), check=5)
        self.assertEqual(self.statuses(), [401], "no second API request")
        self.assertEqual(self.server.token_requests, 2)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertIn("the token server", proc.stderr)
        self.assertEqual(proc.stdout, "")
