"""Proves that support/token_server.py behaves like Cognito's token endpoint
(as far as iotspot-helper cares) and that its faults look the way the
helper's tests assume.

Run:  cd tests/e2e && /usr/bin/python3 -m unittest -v test_token_server

Needs only the Python standard library, the openssl CLI (for the PKI) and
curl.  Every client here verifies the server certificate against the test CA.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.harness import random_client_id, random_client_secret, verifying_context  # noqa: E402
from support.pki import make_pki  # noqa: E402
from support.token_server import (  # noqa: E402
    DEFAULT_SCOPE, TOKEN_PATH, TokenServer, b64url_decode, decode_jwt)

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN_SERVER_PY = os.path.join(HERE, "support", "token_server.py")
CURL = shutil.which("curl")
FORM = "application/x-www-form-urlencoded"


class TokenServerTestBase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="token-server-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.pki = make_pki(os.path.join(cls.tmp, "pki"))
        cls.client_id = random_client_id()
        cls.client_secret = random_client_secret()
        cls.denied_id = random_client_id()
        cls.denied_secret = random_client_secret()
        cls.server = TokenServer(
            cls.pki.server_cert, cls.pki.server_key,
            clients={
                cls.client_id: cls.client_secret,
                cls.denied_id: {"secret": cls.denied_secret, "allowed": False},
            },
            scope=DEFAULT_SCOPE, expires_in=3600)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.ctx = verifying_context(cls.pki.ca_cert)

    def setUp(self):
        self.server.reset()

    # -- clients --------------------------------------------------------------------------
    def connection(self, server=None, timeout=5.0, context=None):
        server = server or self.server
        return http.client.HTTPSConnection("127.0.0.1", server.port, timeout=timeout,
                                           context=context or self.ctx)

    def basic(self, client_id=None, secret=None):
        raw = "%s:%s" % (client_id or self.client_id,
                         self.client_secret if secret is None else secret)
        return "Basic " + base64.b64encode(raw.encode()).decode()

    def post_token(self, fields=None, auth=True, content_type=FORM, conn=None,
                   extra_headers=None, timeout=5.0):
        """POST /oauth2/token; returns (status, headers, raw body bytes)."""
        if fields is None:
            fields = {"grant_type": "client_credentials"}
        body = urllib.parse.urlencode(fields)
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if auth is True:
            headers["Authorization"] = self.basic()
        elif auth:
            headers["Authorization"] = auth
        headers.update(extra_headers or {})
        own = conn is None
        conn = conn or self.connection(timeout=timeout)
        try:
            conn.request("POST", TOKEN_PATH, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if own:
                conn.close()

    def get_token(self, **kwargs):
        status, _headers, body = self.post_token(**kwargs)
        self.assertEqual(status, 200, body)
        return json.loads(body)["access_token"]

    def assertOAuthError(self, result, error):  # noqa: N802
        status, headers, body = result
        self.assertEqual(status, 400, body)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        self.assertEqual(json.loads(body), {"error": error})

    def curl(self, *args, config="", cacert=None):
        """Run curl with --cacert (and options from ``config`` on stdin, so
        credentials never appear in argv)."""
        if CURL is None:
            self.skipTest("curl not installed")
        cmd = [CURL, "--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
               "--cacert", cacert or self.pki.ca_cert, "--config", "-", *args]
        return subprocess.run(cmd, input=config, capture_output=True, text=True, timeout=20)


class TokenEndpointTest(TokenServerTestBase):

    def check_jwt(self, token, expires_in, client_id=None, scope=DEFAULT_SCOPE):
        client_id = client_id or self.client_id
        header, payload, signature = decode_jwt(token)
        self.assertEqual(header, {"alg": "RS256", "kid": "test", "typ": "JWT"})
        for part in token.split("."):
            self.assertNotIn("=", part)  # base64url without padding
            b64url_decode(part)
        self.assertEqual(payload["client_id"], client_id)
        self.assertEqual(payload["sub"], client_id)
        self.assertEqual(payload["token_use"], "access")
        self.assertEqual(payload["scope"], scope)
        self.assertEqual(payload["iss"], self.server.base_url)
        self.assertEqual(payload["version"], 2)
        self.assertEqual(payload["exp"] - payload["iat"], expires_in)
        self.assertLessEqual(abs(payload["iat"] - time.time()), 5)
        self.assertEqual(len(payload["jti"]), 36)
        self.assertEqual(len(signature), 256)
        return payload

    def test_basic_auth_success_with_curl(self):
        headers_file = os.path.join(self.tmp, "curl-headers-%s" % secrets.token_hex(4))
        config = 'user = "%s:%s"\n' % (self.client_id, self.client_secret)
        proc = self.curl("--dump-header", headers_file,
                         "--data", "grant_type=client_credentials",
                         self.server.token_url, config=config)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        answer = json.loads(proc.stdout)
        self.assertEqual(sorted(answer), ["access_token", "expires_in", "token_type"])
        self.assertEqual(answer["token_type"], "Bearer")
        self.assertEqual(answer["expires_in"], 3600)
        self.check_jwt(answer["access_token"], 3600)
        self.assertEqual(self.server.issued_tokens, [answer["access_token"]])
        self.assertEqual(self.server.token_requests, 1)
        log = self.server.token_request_log
        self.assertEqual(log[0]["auth_method"], "client_secret_basic")
        self.assertEqual(log[0]["params"], ["grant_type"])
        with open(headers_file) as f:
            raw_headers = f.read().lower()
        self.assertIn("http/1.1 200", raw_headers)
        self.assertIn("content-type: application/json", raw_headers)
        self.assertIn("date: ", raw_headers)
        self.assertIn("no-store", raw_headers)

    def test_basic_auth_success_with_urllib_and_custom_lifetime(self):
        self.server.set(expires_in=120)
        request = urllib.request.Request(
            self.server.token_url, data=b"grant_type=client_credentials",
            headers={"Authorization": self.basic(), "Content-Type": FORM})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.ctx))
        with opener.open(request, timeout=5) as response:
            self.assertEqual(response.status, 200)
            self.assertIsNotNone(response.headers["Date"])
            self.assertIsNotNone(email.utils.parsedate_to_datetime(response.headers["Date"]))
            answer = json.loads(response.read())
        self.assertEqual(answer["expires_in"], 120)
        self.check_jwt(answer["access_token"], 120)

    def test_form_auth_success(self):
        status, _h, body = self.post_token(
            {"grant_type": "client_credentials", "client_id": self.client_id,
             "client_secret": self.client_secret}, auth=None)
        self.assertEqual(status, 200, body)
        self.check_jwt(json.loads(body)["access_token"], 3600)
        self.assertEqual(self.server.token_request_log[0]["auth_method"], "client_secret_post")

    def test_form_auth_with_curl(self):
        config = 'data-urlencode = "client_secret=%s"\n' % self.client_secret
        proc = self.curl("--data", "grant_type=client_credentials",
                         "--data", "client_id=" + self.client_id,
                         self.server.token_url, config=config)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.check_jwt(json.loads(proc.stdout)["access_token"], 3600)

    def test_explicit_scope_and_basic_plus_matching_form_client_id(self):
        status, _h, body = self.post_token(
            {"grant_type": "client_credentials", "client_id": self.client_id,
             "scope": DEFAULT_SCOPE})
        self.assertEqual(status, 200, body)
        self.check_jwt(json.loads(body)["access_token"], 3600)

    def test_content_type_with_charset_is_accepted(self):
        status, _h, body = self.post_token(content_type=FORM + "; charset=UTF-8")
        self.assertEqual(status, 200, body)

    def test_errors(self):
        cid, secret = self.client_id, self.client_secret
        cases = [
            ("wrong secret", dict(auth=self.basic(secret=secret + "x")), "invalid_client"),
            ("unknown client", dict(auth=self.basic(client_id=random_client_id())),
             "invalid_client"),
            ("no credentials", dict(auth=None), "invalid_client"),
            ("form id without secret", dict(
                auth=None, fields={"grant_type": "client_credentials", "client_id": cid}),
             "invalid_client"),
            ("form wrong secret", dict(auth=None, fields={
                "grant_type": "client_credentials", "client_id": cid,
                "client_secret": secret[:-1]}), "invalid_client"),
            ("basic and form client_id disagree", dict(fields={
                "grant_type": "client_credentials", "client_id": random_client_id()}),
             "invalid_client"),
            ("not basic scheme", dict(auth="Bearer " + secrets.token_urlsafe(8)),
             "invalid_client"),
            ("malformed basic", dict(auth="Basic !!!"), "invalid_client"),
            ("missing grant_type", dict(fields={"scope": DEFAULT_SCOPE}), "invalid_request"),
            ("empty grant_type", dict(fields={"grant_type": ""}), "invalid_request"),
            ("json content type", dict(content_type="application/json"), "invalid_request"),
            ("no content type", dict(content_type=None), "invalid_request"),
            ("other grant", dict(fields={"grant_type": "authorization_code"}),
             "unsupported_grant_type"),
            ("password grant", dict(fields={"grant_type": "password"}),
             "unsupported_grant_type"),
            ("unknown scope", dict(fields={"grant_type": "client_credentials",
                                           "scope": "iotspot/admin"}), "invalid_scope"),
            ("extra scope", dict(fields={"grant_type": "client_credentials",
                                         "scope": DEFAULT_SCOPE + " openid"}),
             "invalid_scope"),
            ("client not allowed the grant",
             dict(auth=self.basic(self.denied_id, self.denied_secret)),
             "unauthorized_client"),
        ]
        for name, kwargs, error in cases:
            with self.subTest(name):
                self.assertOAuthError(self.post_token(**kwargs), error)
        self.assertEqual(self.server.token_requests, len(cases))
        self.assertEqual(self.server.issued_tokens, [])

    def test_repeated_parameter_is_invalid_request(self):
        conn = self.connection()
        try:
            conn.request("POST", TOKEN_PATH,
                         body="grant_type=client_credentials&grant_type=client_credentials",
                         headers={"Content-Type": FORM, "Authorization": self.basic()})
            response = conn.getresponse()
            self.assertEqual(response.status, 400)
            self.assertEqual(json.loads(response.read()), {"error": "invalid_request"})
        finally:
            conn.close()

    def test_get_on_token_endpoint_is_405(self):
        conn = self.connection()
        try:
            conn.request("GET", TOKEN_PATH)
            response = conn.getresponse()
            response.read()
            self.assertEqual(response.status, 405)
        finally:
            conn.close()
        self.assertEqual(self.server.token_requests, 0)

    def test_request_counter(self):
        self.get_token()
        self.assertOAuthError(self.post_token(auth=self.basic(secret="x")), "invalid_client")
        self.server.script([{"status": 503}])
        self.assertEqual(self.post_token()[0], 503)
        self.assertEqual(self.server.token_requests, 3)
        self.assertEqual(len(self.server.issued_tokens), 1)
        self.assertEqual(len(self.server.token_request_log), 3)
        self.server.reset_counters()
        self.assertEqual(self.server.token_requests, 0)
        self.assertEqual(self.server.issued_tokens, [])

    def test_concurrent_requests_are_counted(self):
        import threading
        errors = []

        def worker():
            try:
                self.get_token()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(self.server.token_requests, 8)
        self.assertEqual(len(set(self.server.issued_tokens)), 8)


class ProtectedApiTest(TokenServerTestBase):

    def api(self, authorization, path="/v1/ping"):
        conn = self.connection()
        try:
            headers = {} if authorization is None else {"Authorization": authorization}
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def assertRefused(self, result):  # noqa: N802
        status, headers, body = result
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], 'Bearer error="invalid_token"')
        self.assertEqual(json.loads(body), {"message": "Unauthorized"})

    def test_live_token_accepted(self):
        token = self.get_token()
        status, _h, body = self.api("Bearer " + token)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"ok": True, "client_id": self.client_id})
        self.assertEqual(self.server.last_api_headers["Authorization"], "Bearer " + token)
        self.assertEqual(self.server.last_api_path, "/v1/ping")
        self.assertEqual(self.server.api_requests, 1)
        # other paths under /v1/ are protected the same way
        self.assertEqual(self.api("Bearer " + token, "/v1/devices")[0], 200)
        self.assertEqual(self.api("Bearer " + token, "/v1/token")[0], 404)

    def test_garbage_and_missing_tokens_refused(self):
        self.get_token()
        fake = ".".join(self.server.issued_tokens[0].split(".")[:2]
                        + [base64.urlsafe_b64encode(os.urandom(256)).decode().rstrip("=")])
        for name, authorization in [
                ("garbage", "Bearer " + secrets.token_urlsafe(40)),
                ("forged signature", "Bearer " + fake),
                ("empty", "Bearer "),
                ("wrong scheme", "Basic " + base64.b64encode(b"a:b").decode()),
                ("missing", None)]:
            with self.subTest(name):
                self.assertRefused(self.api(authorization))

    def test_expired_token_refused(self):
        self.server.set(expires_in=1)
        # iat/exp are whole seconds, so a 1 s token minted late in a second
        # lives only until the next one: start early in a second.
        if time.time() % 1 > 0.6:
            time.sleep(1 - time.time() % 1 + 0.01)
        token = self.get_token()
        exp = self.server.token_info(token)["exp"]
        self.assertEqual(self.api("Bearer " + token)[0], 200)
        time.sleep(max(0.0, exp - time.time()) + 0.05)
        self.assertRefused(self.api("Bearer " + token))

    def test_revoked_token_refused(self):
        token = self.get_token()
        self.assertEqual(self.api("Bearer " + token)[0], 200)
        self.server.revoke_all()
        self.assertRefused(self.api("Bearer " + token))
        fresh = self.get_token()
        self.assertEqual(self.api("Bearer " + fresh)[0], 200)

    def test_one_revoked_token_is_refused_and_others_are_not(self):
        first, second = self.get_token(), self.get_token()
        self.server.revoke(first)
        self.assertRefused(self.api("Bearer " + first))
        self.assertEqual(self.api("Bearer " + second)[0], 200)
        log = self.server.api_request_log
        self.assertEqual([(e["token"], e["status"]) for e in log],
                         [(first, 401), (second, 200)])

    def test_a_post_is_answered_with_what_it_sent(self):
        token = self.get_token()
        conn = self.connection()
        try:
            conn.request("POST", "/v1/things", body=b'{"a":1}',
                         headers={"Authorization": "Bearer " + token})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(json.loads(response.read()),
                             {"ok": True, "client_id": self.client_id, "method": "POST",
                              "received": '{"a":1}'})
        finally:
            conn.close()
        self.assertEqual(self.server.api_request_log[-1]["body"], b'{"a":1}')

    def test_scripted_api_answers_come_first_then_tokens_are_checked(self):
        token = self.get_token()
        self.server.script_api([{"status": 429, "retry_after": 1},
                                {"status": 404, "body": '{"message":"no such thing"}'}])
        status, headers, _body = self.api("Bearer " + token)
        self.assertEqual((status, headers["Retry-After"]), (429, "1"))
        status, _headers, body = self.api("Bearer " + token)
        self.assertEqual((status, body), (404, b'{"message":"no such thing"}'))
        self.assertEqual(self.api("Bearer " + token)[0], 200)
        with self.assertRaises(ValueError):
            self.server.script_api([{"status": 500, "drop": True}])

    def test_harness_style_api_get_with_urllib(self):
        token = self.get_token()
        request = urllib.request.Request(self.server.api_url + "v1/ping",
                                         headers={"Authorization": "Bearer " + token})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.ctx))
        with opener.open(request, timeout=5) as response:
            self.assertEqual(response.status, 200)
        request = urllib.request.Request(self.server.api_url + "v1/ping",
                                         headers={"Authorization": "Bearer nope"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            opener.open(request, timeout=5)
        self.assertEqual(cm.exception.code, 401)
        cm.exception.close()


class FaultTest(TokenServerTestBase):

    def test_drop_closes_connection_without_response(self):
        self.server.script([{"drop": True}])
        with self.assertRaises(http.client.RemoteDisconnected):
            self.post_token()
        self.assertEqual(self.server.token_requests, 1)
        self.assertEqual(self.post_token()[0], 200)  # one-shot
        self.assertEqual(self.server.pending_faults, 0)

    def test_truncate_gives_incomplete_read(self):
        self.server.script([{"truncate": True}])
        conn = self.connection()
        try:
            conn.request("POST", TOKEN_PATH, body="grant_type=client_credentials",
                         headers={"Content-Type": FORM, "Authorization": self.basic()})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            declared = int(response.headers["Content-Length"])
            with self.assertRaises(http.client.IncompleteRead) as cm:
                response.read()
            self.assertLess(len(cm.exception.partial), declared)
            self.assertTrue(cm.exception.partial.startswith(b'{"access_token":"'))
        finally:
            conn.close()
        self.assertEqual(self.server.issued_tokens, [])  # not a usable token

    def test_truncate_with_curl(self):
        self.server.script([{"truncate": True}])
        config = 'user = "%s:%s"\n' % (self.client_id, self.client_secret)
        proc = self.curl("--data", "grant_type=client_credentials", self.server.token_url,
                         config=config)
        # The body is cut short: curl says CURLE_PARTIAL_FILE (18), or, with OpenSSL 3.5
        # (Debian 13), CURLE_RECV_ERROR (56) for the TLS close without close_notify.
        self.assertIn(proc.returncode, (18, 56), proc.stderr)

    def test_status_faults(self):
        date = email.utils.formatdate(time.time() + 30, usegmt=True)
        self.server.script([
            {"status": 503},
            {"status": 500},
            {"status": 429, "retry_after": "2"},
            {"status": 429, "retry_after": date},
        ])
        status, headers, body = self.post_token()
        self.assertEqual(status, 503)
        self.assertIsNone(headers["Retry-After"])
        self.assertEqual(json.loads(body), {"message": "Service Unavailable"})
        status, headers, body = self.post_token()
        self.assertEqual(status, 500)
        status, headers, body = self.post_token()
        self.assertEqual((status, headers["Retry-After"]), (429, "2"))
        status, headers, body = self.post_token()
        self.assertEqual((status, headers["Retry-After"]), (429, date))
        self.assertEqual(self.post_token()[0], 200)
        self.assertEqual(self.server.token_requests, 5)

    def test_throttle_has_aws_json_error_shape(self):
        self.server.script([{"throttle": True}])
        status, headers, body = self.post_token()
        self.assertEqual(status, 400)
        self.assertEqual(headers["x-amzn-ErrorType"], "TooManyRequestsException")
        self.assertEqual(json.loads(body),
                         {"__type": "TooManyRequestsException", "message": "Rate exceeded"})
        self.assertEqual(self.server.issued_tokens, [])

    def test_raw_body_faults(self):
        bodies = [
            ("not json", "this is not json", "text/plain"),
            ("no access_token", '{"expires_in":3600,"token_type":"Bearer"}', None),
            ("non-numeric expires_in",
             '{"access_token":"a.b.c","expires_in":"soon","token_type":"Bearer"}', None),
        ]
        faults = []
        for _name, body, ctype in bodies:
            fault = {"body": body}
            if ctype:
                fault["content_type"] = ctype
            faults.append(fault)
        faults.append({"body": "<html>bad gateway</html>", "status": 502,
                       "content_type": "text/html"})
        self.server.script(faults)
        for name, body, ctype in bodies:
            with self.subTest(name):
                status, headers, raw = self.post_token()
                self.assertEqual(status, 200)
                self.assertEqual(raw.decode(), body)
                self.assertEqual(int(headers["Content-Length"]), len(body))
                if ctype:
                    self.assertEqual(headers["Content-Type"], ctype)
        status, headers, raw = self.post_token()
        self.assertEqual((status, headers["Content-Type"], raw),
                         (502, "text/html", b"<html>bad gateway</html>"))

    def test_delay_fault_causes_client_timeout_then_recovers(self):
        self.server.script([{"delay": 1.0}])
        with self.assertRaises((TimeoutError, socket.timeout)):
            self.post_token(timeout=0.3)
        start = time.monotonic()
        self.assertEqual(self.post_token()[0], 200)
        self.assertLess(time.monotonic() - start, 0.9)  # only that one request was slow

    def test_global_delay(self):
        self.server.set(delay=0.3)
        start = time.monotonic()
        self.assertEqual(self.post_token()[0], 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_date_fault(self):
        date = "Mon, 01 Jan 2001 00:00:00 GMT"
        self.server.script([{"date": date}])
        status, headers, body = self.post_token()
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get_all("Date"), [date])
        self.assertIn("access_token", json.loads(body))
        status, headers, _ = self.post_token()
        self.assertNotEqual(headers["Date"], date)

    def test_expires_in_fault_is_one_shot(self):
        self.server.script([{"expires_in": 42}])
        self.assertEqual(json.loads(self.post_token()[2])["expires_in"], 42)
        self.assertEqual(json.loads(self.post_token()[2])["expires_in"], 3600)

    def test_faults_consumed_in_order_regardless_of_request(self):
        self.server.script([{"status": 503}, {"throttle": True}])
        # even a request with bad credentials consumes a fault
        self.assertEqual(self.post_token(auth=self.basic(secret="bad"))[0], 503)
        self.assertEqual(self.post_token()[0], 400)
        self.assertEqual(self.post_token()[0], 200)
        self.assertEqual(self.server.token_requests, 3)

    def test_script_replaces_and_validates(self):
        self.server.script([{"status": 503}, {"status": 503}])
        self.server.script([{"status": 500}])
        self.assertEqual(self.server.pending_faults, 1)
        self.server.script([])
        self.assertEqual(self.server.pending_faults, 0)
        with self.assertRaises(ValueError):
            self.server.script([{"stauts": 503}])
        with self.assertRaises(TypeError):
            self.server.script(["503"])


class TransportTest(TokenServerTestBase):

    def test_untrusted_ca_fails_handshake(self):
        other = verifying_context(self.pki.other_ca_cert)
        conn = self.connection(context=other)
        with self.assertRaises(ssl.SSLCertVerificationError) as cm:
            conn.request("GET", "/v1/ping")
        conn.close()
        self.assertEqual(cm.exception.verify_code, 20)  # unable to get local issuer
        self.assertEqual(self.server.token_requests, 0)
        self.assertEqual(self.server.api_requests, 0)

    def test_untrusted_ca_fails_with_curl(self):
        proc = self.curl("--data", "grant_type=client_credentials", self.server.token_url,
                         cacert=self.pki.other_ca_cert)
        self.assertEqual(proc.returncode, 60, proc.stderr)  # CURLE_PEER_FAILED_VERIFICATION

    def test_wrong_name_fails_hostname_verification(self):
        wrong = TokenServer(self.pki.wrong_name_cert, self.pki.wrong_name_key,
                            clients={self.client_id: self.client_secret})
        wrong.start()
        self.addCleanup(wrong.stop)
        with socket.create_connection(("127.0.0.1", wrong.port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                self.ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.assertIn(cm.exception.verify_code, (62, 64))  # hostname / IP mismatch
        with socket.create_connection(("127.0.0.1", wrong.port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                self.ctx.wrap_socket(raw, server_hostname="localhost")
        # Control: the chain itself is fine, only the name is wrong.
        with socket.create_connection(("127.0.0.1", wrong.port), timeout=5) as raw:
            with self.ctx.wrap_socket(raw, server_hostname="wrong.example") as tls:
                self.assertIsNotNone(tls.getpeercert())
        proc = self.curl("--data", "grant_type=client_credentials", wrong.token_url)
        self.assertEqual(proc.returncode, 60, proc.stderr)

    def test_localhost_name_also_verifies(self):
        ctx = verifying_context(self.pki.ca_cert)
        conn = http.client.HTTPSConnection("localhost", self.server.port, timeout=5,
                                           context=ctx)
        try:
            conn.request("GET", "/v1/ping")
            self.assertEqual(conn.getresponse().status, 401)
        except OSError as exc:  # "localhost" may resolve to ::1 only on odd hosts
            self.skipTest("localhost not reachable over IPv4: %s" % exc)
        finally:
            conn.close()

    def test_tls12_and_tls13_supported(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version.name):
                ctx = verifying_context(self.pki.ca_cert)
                ctx.minimum_version = ctx.maximum_version = version
                with socket.create_connection(("127.0.0.1", self.server.port), 5) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        self.assertEqual(tls.version(), version.name.replace("_", "."))

    def test_keep_alive(self):
        before = self.server.connections_accepted
        conn = self.connection()
        try:
            status1, headers1, _ = self.post_token(conn=conn)
            sock = conn.sock
            self.assertIsNotNone(sock)
            status2, _h, _ = self.post_token(conn=conn)
            self.assertIs(conn.sock, sock)
            conn.request("GET", "/v1/ping",
                         headers={"Authorization": "Bearer " + self.server.issued_tokens[0]})
            response = conn.getresponse()
            self.assertEqual(json.loads(response.read())["ok"], True)
            # an error answer keeps the connection too
            self.assertOAuthError(self.post_token(conn=conn, auth=self.basic(secret="x")),
                                  "invalid_client")
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()
        self.assertEqual((status1, status2), (200, 200))
        self.assertIsNone(headers1["Connection"])
        self.assertEqual(self.server.connections_accepted - before, 1)
        self.assertEqual(self.server.token_requests, 3)

    def test_stop_closes_idle_keep_alive_connections(self):
        server = TokenServer(self.pki.server_cert, self.pki.server_key,
                             clients={self.client_id: self.client_secret})
        server.start()
        self.addCleanup(server.stop)
        conn = self.connection(server=server)
        try:
            self.assertEqual(self.post_token(conn=conn)[0], 200)
            start = time.monotonic()
            server.stop()
            self.assertLess(time.monotonic() - start, 2)
            with self.assertRaises((http.client.HTTPException, OSError)):
                self.post_token(conn=conn)
                # http.client silently reconnects when the socket is closed;
                # the listening socket is gone too, so that must fail as well.
        finally:
            conn.close()


class CliTest(TokenServerTestBase):

    def start_cli(self, port_file, clients_file):
        proc = subprocess.Popen(
            [sys.executable, TOKEN_SERVER_PY, "--cert", self.pki.server_cert,
             "--key", self.pki.server_key, "--clients", clients_file,
             "--port-file", port_file, "--expires-in", "60"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.addCleanup(self._reap, proc)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if proc.poll() is not None:
                self.fail("token server exited early (%s): %s"
                          % (proc.returncode, proc.stderr.read()))
            if time.monotonic() > deadline:
                self.fail("token server did not write %s" % port_file)
            time.sleep(0.02)
        with open(port_file) as f:
            port = int(f.read().strip())
        return proc, port

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=5)

    def write_clients(self, name):
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({self.client_id: self.client_secret}, f)
        return path

    def test_cli_serves_and_exits_cleanly_on_signals(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal.Signals(signum).name):
                tag = secrets.token_hex(4)
                clients = self.write_clients("clients-%s.json" % tag)
                port_file = os.path.join(self.tmp, "port-%s" % tag)
                proc, port = self.start_cli(port_file, clients)
                line = proc.stdout.readline().strip()
                self.assertEqual(line, "token server listening on https://127.0.0.1:%d" % port)

                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                                   context=self.ctx)
                try:
                    conn.request("POST", TOKEN_PATH, body="grant_type=client_credentials",
                                 headers={"Content-Type": FORM,
                                          "Authorization": self.basic()})
                    response = conn.getresponse()
                    self.assertEqual(response.status, 200)
                    answer = json.loads(response.read())
                finally:
                    conn.close()
                self.assertEqual(answer["expires_in"], 60)

                proc.send_signal(signum)
                try:
                    out, err = proc.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    self.fail("token server did not exit within 5 s of %s" % signum)
                self.assertEqual(proc.returncode, 0, err)
                self.assertEqual(err, "")
                for stream in (out, err):
                    self.assertNotIn(self.client_secret, stream)
                    self.assertNotIn(answer["access_token"], stream)

    def test_cli_rejects_bad_clients_file(self):
        path = os.path.join(self.tmp, "bad-%s.json" % secrets.token_hex(4))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[1, 2]")
        proc = subprocess.run(
            [sys.executable, TOKEN_SERVER_PY, "--cert", self.pki.server_cert,
             "--key", self.pki.server_key, "--clients", path],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("clients file", proc.stderr)


class PkiTest(unittest.TestCase):

    def test_pki_files_and_modes(self):
        with tempfile.TemporaryDirectory() as tmp:
            pki = make_pki(os.path.join(tmp, "p"))
            for key in (pki.ca_key, pki.server_key, pki.wrong_name_key):
                self.assertEqual(os.stat(key).st_mode & 0o777, 0o600, key)
            self.assertEqual(os.stat(pki.directory).st_mode & 0o777, 0o700)
            for cert in (pki.server_cert, pki.wrong_name_cert):
                proc = subprocess.run(
                    ["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                     "-CAfile", pki.ca_cert, cert], capture_output=True, text=True)
                self.assertEqual(proc.returncode, 0, proc.stderr)
            proc = subprocess.run(
                ["openssl", "verify", "-CAfile", pki.other_ca_cert, pki.server_cert],
                capture_output=True, text=True)
            self.assertNotEqual(proc.returncode, 0)
            proc = subprocess.run(
                ["openssl", "x509", "-in", pki.server_cert, "-noout", "-ext",
                 "subjectAltName", "-subject"], capture_output=True, text=True)
            self.assertIn("IP Address:127.0.0.1, DNS:localhost", proc.stdout)
            # "CN = localhost" (OpenSSL 3.0, Debian 12) or "CN=localhost" (3.5, Debian 13).
            self.assertRegex(proc.stdout, r"CN ?= ?localhost")

    def test_custom_san(self):
        with tempfile.TemporaryDirectory() as tmp:
            pki = make_pki(tmp, san="DNS:wrong.example", cn="wrong.example")
            proc = subprocess.run(
                ["openssl", "x509", "-in", pki.server_cert, "-noout", "-ext",
                 "subjectAltName"], capture_output=True, text=True)
            self.assertIn("DNS:wrong.example", proc.stdout)
            self.assertNotIn("127.0.0.1", proc.stdout)


if __name__ == "__main__":
    unittest.main()
