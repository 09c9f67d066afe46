"""End-to-end tests of the core commands: configure, token, header, env, exec, status,
logout, against the test token server over real TLS, each test in its own HOME."""

import json
import os
import pty
import select
import socket
import socketserver
import sqlite3
import stat
import subprocess
import threading
import time
import unittest

from support.harness import HelperTestCase, decode_jwt

USAGE, NOT_CONFIGURED, REJECTED, NETWORK, STORE = 2, 3, 4, 5, 6


class Paths:
    """The default XDG locations under a HOME."""

    def __init__(self, home):
        self.config = os.path.join(home, ".config/iotspot-helper/config")
        self.cache_dir = os.path.join(home, ".cache/iotspot-helper")
        self.tokens = os.path.join(self.cache_dir, "tokens.db")
        self.data_dir = os.path.join(home, ".local/share/iotspot-helper")
        self.key = os.path.join(self.data_dir, "key")
        self.secrets = os.path.join(self.data_dir, "secrets.db")


class TokenCommandsTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()

    def token(self, *args, **kw):
        proc = self.run_helper("token", *args, check=True, **kw)
        self.assertNoSecrets(proc.stderr)
        return proc.stdout

    def test_token_is_live_and_printed_with_a_newline(self):
        out = self.token()
        self.assertTrue(out.endswith("\n"))
        self.assertEqual(self.api_get(out.strip())[0], 200)
        self.assertEqual(decode_jwt(out.strip())[1]["client_id"], self.client_id)

    def test_second_call_is_a_cache_hit(self):
        first = self.token()
        second = self.token()
        self.assertEqual(first, second)
        self.assertEqual(self.server.token_requests, 1)

    def test_header(self):
        token = self.token()
        proc = self.run_helper("header", check=True)
        self.assertEqual(proc.stdout, "Authorization: Bearer %s" % token)

    def test_json(self):
        before = int(time.time())
        proc = self.run_helper("token", "--json", check=True)
        data = json.loads(proc.stdout)
        self.assertEqual(set(data), {"access_token", "token_type", "expires_at", "expires_in"})
        self.assertEqual(data["token_type"], "Bearer")
        self.assertEqual(self.api_get(data["access_token"])[0], 200)
        self.assertTrue(3590 <= data["expires_in"] <= 3600)
        expires = time.mktime(time.strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertAlmostEqual(expires, before + 3600, delta=10)

    def test_env_in_posix_shells_quoted_and_unquoted(self):
        token = self.token()
        for shell in ("bash", "dash", "zsh"):
            for form in ('eval "$(%s env)"', "eval $(%s env)"):
                script = (form % self.bin) + '; printf "%s|%s" "$IOTSPOT_ACCESS_TOKEN" "$IOTSPOT_TOKEN_EXPIRES_AT"'
                with self.subTest(shell=shell, form=form):
                    proc = subprocess.run([shell, "-c", script], env=self.env(), text=True,
                                          capture_output=True, timeout=30)
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    got_token, expires = proc.stdout.split("|")
                    self.assertEqual(got_token, token.strip())
                    self.assertAlmostEqual(int(expires), time.time() + 3600, delta=30)

    def test_exec_sets_the_variables_and_returns_the_status(self):
        token = self.token().strip()
        proc = self.run_helper("exec", "--", "sh", "-c",
                               'test "$IOTSPOT_ACCESS_TOKEN" = "$1" && exit 7', "sh", token)
        self.assertEqual(proc.returncode, 7)
        self.assertEqual(self.run_helper("exec", "--", "no-such-command-xyz").returncode, 127)
        self.assertEqual(self.run_helper("exec").returncode, USAGE)

    def test_status_shows_the_cached_token_but_never_it(self):
        self.token()
        proc = self.run_helper("status", check=True)
        self.assertIn('profile "default"', proc.stdout)
        self.assertIn(self.client_id, proc.stdout)
        self.assertIn("token cached, expires", proc.stdout)
        self.assertIn("secret:     stored", proc.stdout)
        self.assertNoSecrets(proc.stdout)
        data = json.loads(self.run_helper("status", "--json", check=True).stdout)
        (profile,) = data["profiles"]
        self.assertEqual(profile["name"], "default")
        self.assertTrue(profile["token"]["cached"])
        self.assertEqual(profile["secret"], "stored")

    def test_logout_drops_the_token_and_forget_secret_drops_the_secret(self):
        first = self.token()
        proc = self.run_helper("logout", check=True)
        self.assertIn("Dropped the cached token", proc.stdout)
        second = self.token()
        self.assertNotEqual(first, second)
        self.assertEqual(self.server.token_requests, 2)
        self.run_helper("logout", "--forget-secret", check=True)
        proc = self.run_helper("token", check=NOT_CONFIGURED)
        self.assertIn("no client secret", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_min_ttl_refreshes_for_one_call(self):
        first = self.token()
        again = self.token("--min-ttl", "3000")
        self.assertEqual(first, again)
        self.server.set(expires_in=3700)
        fresher = self.token("--min-ttl", "3650")
        self.assertNotEqual(first, fresher)
        self.assertEqual(self.server.token_requests, 2)

    def test_min_ttl_beyond_any_lifetime_still_succeeds_with_a_warning(self):
        proc = self.run_helper("token", "--min-ttl", "7200", check=True)
        self.assertEqual(self.api_get(proc.stdout.strip())[0], 200)
        self.assertIn("less than --min-ttl", proc.stderr)

    def test_short_lived_tokens_are_refreshed_at_half_their_life(self):
        self.server.set(expires_in=4)
        first = self.token()
        self.assertEqual(self.token(), first)
        time.sleep(2.5)
        self.assertNotEqual(self.token(), first)
        self.assertEqual(self.server.token_requests, 2)

    def test_verbose_says_what_happens_without_the_token(self):
        proc = self.run_helper("--verbose", "token", check=True)
        self.assertIn("requesting a token from", proc.stderr)
        self.assertNoSecrets(proc.stderr)
        proc = self.run_helper("token", "-v", check=True)
        self.assertIn("cache hit", proc.stderr)
        self.assertNoSecrets(proc.stderr)

    def test_profiles_are_separate(self):
        self.configure(profile="second")
        a = self.token()
        b = self.run_helper("--profile", "second", "token", check=True).stdout
        self.assertNotEqual(a, b)
        c = self.run_helper("token", check=True, env=self.env(IOTSPOT_PROFILE="second")).stdout
        self.assertEqual(b, c)


class ConfigurationTest(HelperTestCase):
    def test_not_configured_says_how_to_configure(self):
        proc = self.run_helper("token", check=NOT_CONFIGURED)
        self.assertEqual(proc.stdout, "")
        self.assertIn("iotspot-helper configure", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)

    def test_environment_alone_is_enough(self):
        env = self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_CLIENT_SECRET=self.client_secret,
                       IOTSPOT_TOKEN_URL=self.server.token_url, IOTSPOT_CA_FILE=self.pki.ca_cert)
        token = self.run_helper("token", env=env, check=True).stdout.strip()
        self.assertEqual(self.api_get(token)[0], 200)
        self.assertEqual(self.run_helper("token", env=env, check=True).stdout.strip(), token)
        self.assertEqual(self.server.token_requests, 1)
        self.assertFalse(os.path.exists(Paths(self.home).secrets))

    def test_environment_overrides_the_file(self):
        self.configure(secret="wrong-secret-in-file")
        proc = self.run_helper("token", check=REJECTED)
        self.assertIn("invalid_client", proc.stderr)
        env = self.env(IOTSPOT_CLIENT_SECRET=self.client_secret)
        self.run_helper("token", env=env, check=True)

    def test_xdg_directories_are_honoured(self):
        xdg = os.path.join(self.home, "xdg")
        env = self.env(XDG_CONFIG_HOME=xdg + "/c", XDG_CACHE_HOME=xdg + "/k", XDG_DATA_HOME=xdg + "/d")
        self.configure(env=env)
        self.run_helper("token", env=env, check=True)
        for path in ("c/iotspot-helper/config", "k/iotspot-helper/tokens.db",
                     "d/iotspot-helper/key", "d/iotspot-helper/secrets.db"):
            self.assertTrue(os.path.exists(os.path.join(xdg, path)), path)
        self.assertFalse(os.path.exists(os.path.join(self.home, ".config")))

    def test_configure_keeps_the_secret_when_only_settings_change(self):
        self.configure()
        proc = self.run_helper("configure", "--refresh-margin", "120", check=True)
        self.assertIn("stored secret kept", proc.stdout)
        self.run_helper("token", check=True)
        with open(Paths(self.home).config) as f:
            self.assertIn("refresh_margin = 120", f.read())

    def test_configure_without_a_secret_and_without_a_terminal_is_a_usage_error(self):
        proc = self.run_helper("configure", "--client-id", "abc", check=USAGE)
        self.assertIn("--client-secret-stdin", proc.stderr)

    def test_configure_refuses_plain_http_token_urls(self):
        proc = self.run_helper("configure", "--client-id", "abc", "--token-url",
                               "http://127.0.0.1/oauth2/token", "--client-secret-stdin",
                               input="s\n", check=USAGE)
        self.assertIn("https", proc.stderr)

    def test_configure_reads_the_secret_from_the_terminal_without_echo(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.home)
            os.execve(self.bin, [self.bin, "configure", "--client-id", self.client_id,
                                 "--token-url", self.server.token_url,
                                 "--ca-file", self.pki.ca_cert], self.env())
        output = b""
        deadline = time.time() + 20
        sent = False
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            if not sent and b"Client secret" in output:
                os.write(fd, (self.client_secret + "\n").encode())
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output)
        self.assertNoSecrets(output.decode(errors="replace"))
        self.run_helper("token", check=True)

    def test_a_syntax_error_in_the_config_names_the_line(self):
        self.configure()
        with open(Paths(self.home).config, "a") as f:
            f.write("client-id = oops\n")
        proc = self.run_helper("token", check=NOT_CONFIGURED)
        self.assertRegex(proc.stderr, r"config file .*, line \d+: unknown key")

    def test_usage_errors(self):
        for args in (["tokn"], ["token", "--jsn"], ["token", "--min-ttl", "soon"],
                     ["env", "--shell", "cmd"], ["--profile", "../x", "token"], []):
            with self.subTest(args=args):
                proc = self.run_helper(*args, check=USAGE)
                self.assertTrue(proc.stderr.strip() or proc.stdout.strip())

    def test_help_and_version(self):
        proc = self.run_helper("--help", check=True)
        for code in ("2  usage", "3  not configured", "4  the token server rejected",
                     "5  token server unreachable", "6  local key"):
            self.assertIn(code, proc.stdout)
        self.assertRegex(self.run_helper("--version", check=True).stdout, r"^iotspot-helper \d+\.\d+")
        self.assertIn("--min-ttl", self.run_helper("token", "--help", check=True).stdout)


class TokenServerErrorsTest(HelperTestCase):
    def test_wrong_secret_is_invalid_client_exit_4(self):
        self.configure(secret="not-the-secret")
        proc = self.run_helper("token", check=REJECTED)
        self.assertIn("invalid_client", proc.stderr)
        self.assertIn("Control Center", proc.stderr)
        self.assertNoSecrets(proc.stderr, extra=["not-the-secret"])
        self.assertEqual(self.server.token_requests, 1)

    def test_wrong_scope_is_invalid_scope_exit_4(self):
        self.configure(extra_args=["--scope", "someone/else"])
        proc = self.run_helper("token", check=REJECTED)
        self.assertIn("invalid_scope", proc.stderr)

    def test_unreachable_server_is_exit_5(self):
        self.configure()
        port = self.server.port
        env = self.env(IOTSPOT_TOKEN_URL="https://127.0.0.1:1/oauth2/token", IOTSPOT_TIMEOUT="3")
        proc = self.run_helper("token", env=env, check=NETWORK)
        self.assertIn("refused", proc.stderr)
        self.assertNotEqual(port, 1)

    def test_untrusted_certificate_is_exit_5(self):
        self.configure(ca_file=self.pki.other_ca_cert)
        proc = self.run_helper("token", check=NETWORK)
        self.assertIn("TLS", proc.stderr)
        self.assertIn("--ca-file", proc.stderr)
        self.assertEqual(self.server.token_requests, 0)

    def test_certificate_for_another_host_name_is_exit_5(self):
        wrong = self.start_server(self.pki.wrong_name_cert, self.pki.wrong_name_key)
        self.configure(server=wrong)
        proc = self.run_helper("token", check=NETWORK)
        self.assertIn("TLS", proc.stderr)
        self.assertEqual(wrong.token_requests, 0)

    def test_malformed_answer_is_exit_5_and_not_cached(self):
        self.configure()
        self.server.script([{"status": 200, "body": "<html>gateway</html>", "content_type": "text/html"}])
        proc = self.run_helper("token", check=NETWORK)
        self.assertIn("not a JSON object", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        self.run_helper("token", check=True)


class ConnectProxy(socketserver.ThreadingTCPServer):
    """A minimal HTTP CONNECT proxy on 127.0.0.1 that records the tunnels it opened."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.tunnels = []
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        request = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if len(request) < 2 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = request[1].rsplit(":", 1)
        self.server.tunnels.append(request[1])
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()

        def pump(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(upstream, self.connection), daemon=True)
        back.start()
        pump(self.connection, upstream)
        back.join(timeout=10)
        upstream.close()


class ProxyTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()
        self.proxy = ConnectProxy()
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()
        self.addCleanup(self.proxy.server_close)
        self.addCleanup(self.proxy.shutdown)

    def test_https_proxy_is_used_through_a_connect_tunnel(self):
        env = self.env(HTTPS_PROXY=self.proxy.url)
        token = self.run_helper("token", env=env, check=True).stdout.strip()
        self.assertEqual(self.api_get(token)[0], 200)
        self.assertEqual(self.proxy.tunnels, ["127.0.0.1:%d" % self.server.port])

    def test_lower_case_https_proxy_works_too(self):
        self.run_helper("token", env=self.env(https_proxy=self.proxy.url), check=True)
        self.assertEqual(len(self.proxy.tunnels), 1)

    def test_no_proxy_bypasses_the_proxy(self):
        for no_proxy in ("127.0.0.1", "localhost,127.0.0.1", "*"):
            with self.subTest(no_proxy=no_proxy):
                self.run_helper("logout", check=True)
                env = self.env(HTTPS_PROXY=self.proxy.url, NO_PROXY=no_proxy)
                self.run_helper("token", env=env, check=True)
        self.assertEqual(self.proxy.tunnels, [])

    def test_a_dead_proxy_is_a_network_error(self):
        port = self.proxy.server_address[1]
        self.proxy.shutdown()
        self.proxy.server_close()
        env = self.env(HTTPS_PROXY="http://127.0.0.1:%d" % port, IOTSPOT_TIMEOUT="3")
        proc = self.run_helper("token", env=env, check=NETWORK)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(self.server.token_requests, 0)


class InstallTest(HelperTestCase):
    """`cmake --install` lays out a tree in which the installed executable finds its network
    module and git finds git-credential-iotspot."""

    def test_the_installed_tree_fetches_tokens(self):
        prefix = os.path.join(self.home, "prefix")
        build_dir = os.path.dirname(self.bin)
        proc = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        installed = os.path.join(prefix, "bin", "iotspot-helper")
        git_helper = os.path.join(prefix, "bin", "git-credential-iotspot")
        self.assertTrue(os.path.islink(git_helper))
        self.configure()
        env = self.env()
        token = subprocess.run([installed, "token"], env=env, capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(token.returncode, 0, token.stderr)
        self.assertEqual(self.api_get(token.stdout.strip())[0], 200)
        request = "protocol=https\nhost=127.0.0.1:%d\n\n" % self.server.port
        answer = subprocess.run([git_helper, "get"], input=request, env=env,
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(answer.returncode, 0, answer.stderr)
        self.assertIn("password=%s\n" % token.stdout.strip(), answer.stdout)
        for unit in ("iotspot-helper-prefetch.service", "iotspot-helper-serve.service",
                     "iotspot-helper-sink@.service"):
            with open(os.path.join(prefix, "lib/systemd/user", unit)) as f:
                self.assertIn("ExecStart=%s " % installed, f.read())
        with open(os.path.join(prefix, "share/iotspot-helper/cron/iotspot-helper.crontab")) as f:
            self.assertIn(" %s prefetch" % installed, f.read())


class StoreTest(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.configure()
        self.token = self.run_helper("token", check=True).stdout.strip()
        self.paths = Paths(self.home)

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)

    def test_files_are_private(self):
        for d in (os.path.dirname(self.paths.config), self.paths.cache_dir, self.paths.data_dir):
            self.assertEqual(self.mode(d), 0o700, d)
        for f in (self.paths.config, self.paths.tokens, self.paths.key, self.paths.secrets):
            self.assertEqual(self.mode(f), 0o600, f)

    def test_no_token_or_secret_in_clear_anywhere_on_disk(self):
        for root, _dirs, files in os.walk(self.home):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNoSecrets(f.read().decode("latin-1"))

    def test_a_readable_key_file_is_refused_with_the_fix(self):
        os.chmod(self.paths.key, 0o644)
        proc = self.run_helper("token", check=STORE)
        self.assertIn("chmod 600 " + self.paths.key, proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_a_readable_data_directory_is_refused_with_the_fix(self):
        os.chmod(self.paths.data_dir, 0o755)
        proc = self.run_helper("token", check=STORE)
        self.assertIn("chmod 700 " + self.paths.data_dir, proc.stderr)

    def test_a_damaged_cache_is_rebuilt_with_a_warning(self):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.paths.tokens + suffix):
                os.remove(self.paths.tokens + suffix)
        with open(self.paths.tokens, "wb") as f:
            f.write(b"this is not a database" * 100)
        proc = self.run_helper("token", check=True)
        self.assertIn("damaged", proc.stderr)
        self.assertEqual(self.api_get(proc.stdout.strip())[0], 200)
        self.run_helper("token", check=True)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_tampered_cache_row_is_a_miss_not_a_bad_token(self):
        db = sqlite3.connect(self.paths.tokens)
        db.execute("UPDATE tokens SET sealed = zeroblob(80)")
        db.commit()
        db.close()
        fresh = self.run_helper("token", check=True).stdout.strip()
        self.assertEqual(self.api_get(fresh)[0], 200)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_row_copied_to_another_profile_does_not_open(self):
        self.configure(profile="other")
        db = sqlite3.connect(self.paths.tokens)
        db.execute("INSERT INTO tokens SELECT 'other', obtained_at, expires_at, sealed "
                   "FROM tokens WHERE profile = 'default'")
        db.commit()
        db.close()
        other = self.run_helper("--profile", "other", "token", check=True).stdout.strip()
        self.assertNotEqual(other, self.token)
        self.assertEqual(self.server.token_requests, 2)

    def test_a_newer_schema_is_refused_and_kept(self):
        db = sqlite3.connect(self.paths.tokens)
        db.execute("PRAGMA user_version = 42")
        db.commit()
        db.close()
        proc = self.run_helper("token", check=STORE)
        self.assertIn("newer iotspot-helper", proc.stderr)
        db = sqlite3.connect(self.paths.tokens)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 42)
        db.close()


if __name__ == "__main__":
    unittest.main()
