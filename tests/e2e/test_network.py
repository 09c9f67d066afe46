"""The token client's network behaviour end to end: every address of a name, proxies as curl
takes them (http://, https:// over TLS, socks5://, socks5h://, NO_PROXY), token_url's path,
query and fragment, expires_in's type and range, certificates without subjectAltName, and
malformed answers (one attempt, named malformed).

Names are given addresses by a private /etc/hosts, bind-mounted in a mount namespace of
the helper's own (unshare -m); those tests skip where that is not allowed.

Run:  cd tests/e2e && IOTSPOT_HELPER_BIN=... /usr/bin/python3 -m unittest -v test_network
"""

import json
import os
import shutil
import socket
import subprocess
import unittest

from support.harness import HelperTestCase
from support.pki import make_server_cert
from support.proxy_server import ProxyServer

NETWORK = 5


def can_unshare():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
    return probe.returncode == 0


class NamesTest(HelperTestCase):
    """A name with several addresses: every one is tried (curl's Happy Eyeballs)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert, cls.key = make_server_cert(
            os.path.join(cls.tmp, "pki"), cls.pki.ca_cert, cls.pki.ca_key, "names",
            san="DNS:dual.test,DNS:first-refuses.test")

    def setUp(self):
        super().setUp()
        if not can_unshare():
            self.skipTest("needs root and unshare -m for a private /etc/hosts")

    def token_with_hosts(self, hosts, url):
        """`token` for token_url `url`, with /etc/hosts replaced by `hosts` for the helper."""
        hosts_file = os.path.join(self.home, "hosts")
        with open(hosts_file, "w") as out:
            out.write(hosts)
        self.configure(extra_args=["--token-url", url])
        script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
        return subprocess.run(
            ["unshare", "-m", "sh", "-c", script, "sh", hosts_file, self.bin, "token"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
            env=self.env(IOTSPOT_TIMEOUT=10), cwd=self.home, stdin=subprocess.DEVNULL)

    def test_a_server_on_ipv6_only_behind_a_name_with_an_ipv4_address_too(self):
        server = self.start_server(self.cert, self.key, host="::1")
        proc = self.token_with_hosts("127.0.0.1 dual.test\n::1 dual.test\n",
                                     "https://dual.test:%d/oauth2/token" % server.port)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(proc.stdout.strip(), server.issued_tokens[-1])

    def test_a_name_whose_first_address_refuses_the_connection(self):
        server = self.start_server(self.cert, self.key)  # 127.0.0.1 only
        proc = self.token_with_hosts(
            "127.0.0.2 first-refuses.test\n127.0.0.1 first-refuses.test\n",
            "https://first-refuses.test:%d/oauth2/token" % server.port)
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(server.token_requests, 1)


class ProxiesTest(HelperTestCase):
    def start_proxy(self, kind, refuse=None):
        proxy = ProxyServer(kind, self.pki.server_cert, self.pki.server_key, refuse=refuse)
        self.addCleanup(proxy.stop)
        return proxy

    def token(self, **env):
        env.setdefault("IOTSPOT_TIMEOUT", 10)
        return self.run_helper("token", env=self.env(**env))

    def test_an_https_proxy_gets_its_credentials_only_over_tls(self):
        self.configure()
        proxy = self.start_proxy("https")
        proc = self.token(HTTPS_PROXY=proxy.url(credentials="proxyuser:proxy-pw"))
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(len(proxy.requests), 1, proxy.requests)
        request = proxy.requests[0]
        self.assertEqual(request["target"], "127.0.0.1:%d" % self.server.port)
        self.assertTrue(request["over_tls"])
        self.assertEqual(request["authorization"], "Basic cHJveHl1c2VyOnByb3h5LXB3")
        self.assertNotIn("proxy-pw", proc.stderr)

    def test_an_https_proxy_is_verified_against_the_same_trust(self):
        self.configure(ca_file=self.pki.other_ca_cert)
        proxy = self.start_proxy("https")
        proc = self.token(HTTPS_PROXY=proxy.url())
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("TLS with the proxy 127.0.0.1:%d failed" % proxy.port, proc.stderr)
        self.assertEqual(proxy.requests, [])

    def test_a_socks5_proxy_resolves_locally_and_socks5h_by_name(self):
        self.configure(extra_args=["--token-url",
                                   "https://localhost:%d/oauth2/token" % self.server.port])
        proxy = self.start_proxy("socks5")
        self.run_helper("token", env=self.env(HTTPS_PROXY=proxy.url("socks5")), check=True)
        self.run_helper("logout", check=True)
        self.run_helper("token", env=self.env(HTTPS_PROXY=proxy.url("socks5h")), check=True)
        self.assertEqual([r["by_name"] for r in proxy.requests], [False, True])
        self.assertEqual(proxy.requests[1]["target"], "localhost:%d" % self.server.port)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_refused_tunnel_names_the_proxy_and_its_status(self):
        self.configure()
        proxy = self.start_proxy("http", refuse=403)
        proc = self.token(HTTPS_PROXY=proxy.url())
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("the proxy 127.0.0.1:%d refused the tunnel to the token server "
                      "127.0.0.1:%d (HTTP 403)" % (proxy.port, self.server.port), proc.stderr)
        self.assertEqual(len(proxy.requests), 1)

    def test_a_socks_proxy_that_cannot_reach_the_server_is_named(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        self.configure(extra_args=["--token-url", "https://127.0.0.1:%d/oauth2/token" % closed])
        proxy = self.start_proxy("socks5")
        proc = self.token(HTTPS_PROXY=proxy.url("socks5"), IOTSPOT_TIMEOUT=3)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("the proxy 127.0.0.1:%d did not open a tunnel to the token server "
                      "127.0.0.1:%d" % (proxy.port, closed), proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)

    def test_a_host_that_bypasses_the_proxy_is_named_in_failures(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        self.configure(extra_args=["--token-url", "https://127.0.0.1:%d/oauth2/token" % closed])
        proxy = self.start_proxy("http")
        proc = self.token(HTTPS_PROXY=proxy.url(), NO_PROXY="127.0.0.1", IOTSPOT_TIMEOUT=2)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("connection to the token server 127.0.0.1:%d was refused" % closed,
                      proc.stderr)
        self.assertEqual(proxy.requests, [])

    def test_an_unsupported_proxy_scheme_is_a_clear_error(self):
        self.configure()
        for scheme in ("socks4", "ftp"):
            with self.subTest(scheme=scheme):
                proc = self.token(HTTPS_PROXY="%s://127.0.0.1:9" % scheme)
                self.assertEqual(proc.returncode, NETWORK, proc.stderr)
                self.assertIn('HTTPS_PROXY uses the scheme "%s"' % scheme, proc.stderr)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def proxied_by_curl(self, proxy, no_proxy):
        """Whether curl itself takes the proxy for the token server under `no_proxy`."""
        before = len(proxy.requests)
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "10",
                        "--cacert", self.pki.ca_cert, self.server.base_url + "/v1/ping"],
                       env=self.env(HTTPS_PROXY=proxy.url(), NO_PROXY=no_proxy), timeout=30,
                       stdin=subprocess.DEVNULL, check=False)
        return len(proxy.requests) > before

    def test_no_proxy_as_curl_reads_it(self):
        self.configure()
        proxy = self.start_proxy("http")
        port = self.server.port
        # IP addresses never match by suffix; CIDR ranges do match: curl's rules.
        required = {"0.0.1": True, ".0.0.1": True, "127.0.0.0/8": False, "*": False}
        for no_proxy in list(required) + ["127.0.0.1:%d" % port, "127.0.0.1:1",
                                          "localhost,127.0.0.1", "example.com, 127.0.0.1 "]:
            with self.subTest(no_proxy=no_proxy):
                by_curl = self.proxied_by_curl(proxy, no_proxy)
                self.assertEqual(by_curl, required.get(no_proxy, by_curl))
                self.run_helper("logout", check=True)
                before = len(proxy.requests)
                proc = self.token(HTTPS_PROXY=proxy.url(), NO_PROXY=no_proxy)
                self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
                self.assertEqual(len(proxy.requests) > before, by_curl)


class TokenUrlTest(HelperTestCase):
    def token_for(self, url):
        self.configure(extra_args=["--token-url", url])
        return self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=5))

    def test_a_url_without_a_path_is_sent_as_slash(self):
        self.token_for("https://127.0.0.1:%d" % self.server.port)
        self.token_for("https://127.0.0.1:%d?x=1" % self.server.port)
        self.assertEqual(self.server.request_targets, ["/", "/?x=1"])

    def test_the_query_is_kept(self):
        proc = self.token_for(self.server.token_url + "?x=1")
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.request_targets, ["/oauth2/token?x=1"])

    def test_a_fragment_is_never_sent(self):
        proc = self.token_for(self.server.token_url + "#part")
        self.assertEqual(proc.returncode, 0, self.redact(proc.stderr))
        self.assertEqual(self.server.request_targets, ["/oauth2/token"])


    def test_a_redirect_is_not_followed(self):
        other = self.start_server()
        self.configure()
        self.server.script([{"status": 307, "headers": {"Location": other.token_url}}] * 5)
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=5))
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("answered HTTP 307", proc.stderr)
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(other.token_requests, 0)


class ExpiresInTest(HelperTestCase):
    def check(self, raw_expires_in, expected):
        self.configure()
        body = '{"access_token": "abc.def.ghi", "token_type": "Bearer", "expires_in": %s}'
        self.server.script([{"body": body % raw_expires_in}] * 5)
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=5))
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertIn(expected, proc.stderr)
        self.assertNotIn("Out of range", proc.stderr)
        self.assertEqual(self.server.token_requests, 1)

    def test_two_to_the_63(self):
        self.check("9223372036854775808", "expires_in beyond 2^63-1 s")

    def test_a_boolean(self):
        self.check("true", "no numeric expires_in")

    def test_a_string(self):
        self.check('"3600"', "no numeric expires_in")

    def test_a_fraction(self):
        self.check("1.5", "not a whole number of seconds")


class BoundsAndMessagesTest(HelperTestCase):
    def token(self, timeout=5, **env):
        return self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=timeout, **env))

    def test_an_answer_over_1_mib_is_refused_once(self):
        self.configure()
        body = b"{" + b" " * (1024 * 1024 + 10) + b"}"
        self.server.script([{"raw": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body)}] * 5)
        proc = self.token()
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("answer is larger than 1 MiB", proc.stderr)
        self.assertEqual(self.server.token_requests, 1)

    def test_a_flood_of_header_lines_and_interim_answers_is_refused_once(self):
        self.configure()
        floods = [b"HTTP/1.1 200 OK\r\n" + b"X-Filler: x\r\n" * 5000 + b"\r\n{}",
                  b"HTTP/1.1 100 Continue\r\n\r\n" * 500 + b"HTTP/1.1 200 OK\r\n\r\n{}"]
        for flood in floods:
            with self.subTest(flood=flood[:30]):
                self.server.reset_counters()
                self.server.script([{"raw": flood}] * 5)
                proc = self.token()
                self.assertEqual(proc.returncode, NETWORK, proc.stderr)
                self.assertIn("answer is too large", proc.stderr)
                self.assertEqual(self.server.token_requests, 1)

    def test_an_ipv6_server_is_named_in_brackets(self):
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            port = probe.getsockname()[1]
        self.configure(extra_args=["--token-url", "https://[::1]:%d/oauth2/token" % port])
        proc = self.token(timeout=2)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("connection to the token server [::1]:%d was refused" % port, proc.stderr)

    def test_a_proxy_that_never_opens_the_tunnel_is_named(self):
        self.configure()
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            proxy = "127.0.0.1:%d" % silent.getsockname()[1]
            proc = self.token(timeout=2, HTTPS_PROXY="http://" + proxy)
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("the proxy %s was too slow: no tunnel to the token server within" % proxy,
                      proc.stderr)


class SubjectAltNameTest(HelperTestCase):
    def test_a_certificate_with_only_a_common_name_is_refused(self):
        cert, key = make_server_cert(os.path.join(self.home, "cn-only"), self.pki.ca_cert,
                                     self.pki.ca_key, "cn-only", san="", cn="localhost")
        server = self.start_server(cert, key)
        self.configure(extra_args=["--token-url",
                                   "https://localhost:%d/oauth2/token" % server.port])
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=5))
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("TLS with localhost:%d failed" % server.port, proc.stderr)
        self.assertIn("subjectAltName", proc.stderr)
        self.assertNotIn("gave up after", proc.stderr)
        self.assertEqual(server.token_requests, 0)


class MalformedHttpTest(HelperTestCase):
    """Answers that arrive whole but break HTTP: not retried, and named malformed."""

    BODY = json.dumps({"access_token": "abc.def.ghi", "token_type": "Bearer",
                       "expires_in": 3600}).encode()

    def check(self, raw):
        self.configure()
        self.server.script([{"raw": raw}] * 5)
        proc = self.run_helper("token", env=self.env(IOTSPOT_TIMEOUT=5))
        self.assertEqual(proc.returncode, NETWORK, proc.stderr)
        self.assertIn("malformed", proc.stderr)
        self.assertNotIn("closed early", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertEqual(self.server.token_requests, 1)

    def test_conflicting_content_length(self):
        self.check(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(self.BODY), len(self.BODY) + 1,
                                                      self.BODY))

    def test_a_negative_chunk_size(self):
        self.check(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n")

    def test_a_chunk_without_its_crlf(self):
        self.check(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s0\r\n\r\n"
                   % (len(self.BODY), self.BODY))


if __name__ == "__main__":
    unittest.main()
