"""End-to-end tests of what the user types or writes and what the helper tells them back:
control characters in usage errors, IOTSPOT_TIMEOUT, the config file's edges (a byte-order
mark, a profile given twice, an upper-case scheme), IPv6 hosts in messages, and `status`
after the clock was set back. Each test in its own HOME."""

import glob
import json
import os
import re
import socket
import unittest

from support.harness import HelperTestCase

USAGE, NOT_CONFIGURED = 2, 3

ESC, BEL = "\x1b", "\x07"
# What libfaketime is installed as (Debian's faketime package), for the clock test.
LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))


def control_characters(text):
    """The control characters in `text` other than the line ends."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f]


class UsageErrorsTest(HelperTestCase):
    def test_usage_errors_escape_control_characters(self):
        hostile = ESC + "]0;owned" + BEL + ESC + "[2J"
        cases = {
            "unknown command": [hostile],
            "unknown option": ["token", "--" + hostile],
            "unknown short option": ["token", "-" + ESC],
            "--min-ttl": ["token", "--min-ttl", hostile],
            "--port": ["serve", "--port", hostile],
            "--jobs": ["prefetch", "--jobs", hostile],
            "--shell": ["env", "--shell", hostile],
            "--profile": ["--profile", hostile, "token"],
        }
        for what, args in cases.items():
            with self.subTest(what):
                proc = self.run_helper(*args, check=USAGE)
                self.assertEqual(control_characters(proc.stderr), [], repr(proc.stderr))
                self.assertIn("\\x1b", proc.stderr)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)


class TimeoutVariableTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()

    def test_an_invalid_timeout_is_a_usage_error_naming_the_variable_and_range(self):
        for value in ("0", "-1", "301", "abc", "1.5", " 5"):
            with self.subTest(value=value):
                proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=value), check=USAGE)
                self.assertEqual(proc.stdout, "")
                self.assertIn("IOTSPOT_TIMEOUT", proc.stderr)
                self.assertIn("1 to 300", proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def test_a_valid_timeout_is_taken(self):
        for value in ("1", "300"):
            with self.subTest(value=value):
                self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=value), check=True)


class RedisTimeoutVariableTest(HelperTestCase):
    def test_an_invalid_redis_timeout_is_a_usage_error_naming_the_variable_and_range(self):
        self.configure()
        # Nothing listens on port 9: the variable is read before any connection is tried.
        for value in ("9", "10001", "abc", "250ms", "\x1b[31m"):
            with self.subTest(value=value):
                proc = self.run_helper("token", env=self.env(
                    IOTSPOT_SHARED_CACHE="redis://127.0.0.1:9", IOTSPOT_REDIS_TIMEOUT_MS=value),
                    check=USAGE)
                self.assertEqual(proc.stdout, "")
                self.assertIn("IOTSPOT_REDIS_TIMEOUT_MS", proc.stderr)
                self.assertIn("10 to 10000", proc.stderr)
                self.assertNotIn("\x1b", proc.stderr)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.token_requests, 0)


class ConfigFileTest(HelperTestCase):
    def config_path(self):
        return os.path.join(self.home, ".config/iotspot-helper/config")

    def write_config(self, text):
        os.makedirs(os.path.dirname(self.config_path()), mode=0o700, exist_ok=True)
        with open(self.config_path(), "w", encoding="utf-8") as f:
            f.write(text)

    def profile_text(self, token_url=None):
        return ('[profile "default"]\nclient_id = %s\ntoken_url = %s\nca_file = %s\n'
                % (self.client_id, token_url or self.server.token_url, self.pki.ca_cert))

    def secret_env(self):
        return self.env(IOTSPOT_CLIENT_SECRET=self.client_secret)

    def test_a_byte_order_mark_at_the_start_is_accepted(self):
        self.write_config("\ufeff" + self.profile_text())
        self.run_helper("token", env=self.secret_env(), check=True)

    def test_a_profile_given_twice_is_an_error_naming_both_lines(self):
        self.write_config(self.profile_text() + '\n[profile "default"]\nscope = other\n')
        proc = self.run_helper("token", env=self.secret_env(), check=NOT_CONFIGURED)
        self.assertIn("line 6", proc.stderr)
        self.assertIn("line 1", proc.stderr)
        self.assertIn('"default"', proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def test_the_scheme_is_case_insensitive(self):
        upper = re.sub("^https://", "HTTPS://", self.server.token_url)
        self.write_config(self.profile_text(upper) + "api_url = HTTPS://API.example\n")
        self.run_helper("token", env=self.secret_env(), check=True)
        status = json.loads(self.run_helper("status", "--json", env=self.secret_env(),
                                            check=True).stdout)
        self.assertEqual(status["profiles"][0]["token_url"], self.server.token_url)
        # configure and the environment take it too
        self.run_helper("configure", "--client-id", self.client_id, "--token-url", upper,
                        "--client-secret-stdin", input=self.client_secret + "\n", check=True)
        env = self.env(IOTSPOT_TOKEN_URL=upper, IOTSPOT_CLIENT_SECRET=self.client_secret)
        self.run_helper("token", "--min-ttl", "604800", env=env, check=True)


class Ipv6HostTest(HelperTestCase):
    def test_an_ipv6_token_server_is_named_in_brackets(self):
        # A port on ::1 that is bound but not listening refuses connections.
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as closed:
            closed.bind(("::1", 0))
            port = closed.getsockname()[1]
            env = self.env(IOTSPOT_CLIENT_ID=self.client_id,
                           IOTSPOT_CLIENT_SECRET=self.client_secret,
                           IOTSPOT_TOKEN_URL="https://[::1]:%d/oauth2/token" % port,
                           IOTSPOT_TIMEOUT="2")
            proc = self.run_helper("token", env=env, check=5)
        self.assertIn("[::1]:%d" % port, proc.stderr)
        self.assertNotIn(" ::1:%d" % port, proc.stderr)


@unittest.skipUnless(LIBFAKETIME, "needs Debian's faketime package (scripts/bootstrap.sh --test)")
class ClockSetBackTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()

    def test_status_says_the_clock_moved_back_not_that_the_token_expired(self):
        # The token is fetched while the clock reads three hours ahead; then it is "set back".
        ahead = self.env(LD_PRELOAD=LIBFAKETIME[0], FAKETIME="+3h", FAKETIME_DONT_FAKE_MONOTONIC="1",
                         ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        self.run_helper("token", env=ahead, check=True)
        proc = self.run_helper("status", check=True)
        self.assertNotIn("expired", proc.stdout)
        self.assertIn("clock", proc.stdout)
        self.assertIn("not usable", proc.stdout)
        token = json.loads(self.run_helper("status", "--json", check=True).stdout)["profiles"][0]["token"]
        self.assertFalse(token["valid"])
        self.assertTrue(token["obtained_in_the_future"])
        # And it is not handed out: the next call fetches a new one.
        self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 2)
        self.assertIn("token cached, expires", self.run_helper("status", check=True).stdout)


if __name__ == "__main__":
    unittest.main()
