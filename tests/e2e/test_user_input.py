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
