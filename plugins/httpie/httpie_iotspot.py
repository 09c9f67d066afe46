"""iotspot-helper for HTTPie: the auth type ``iotspot``.

    http --auth-type=iotspot https://api.iotspot.co/v1/...
    http --auth-type=iotspot -a staging https://...      # the helper profile "staging"

Sends ``Authorization: Bearer <token>`` with a token from ``iotspot-helper token --json``
(run without a shell; the token comes back on its standard output, never on a command line).
The helper caches the token until shortly before it expires, so repeated calls cost no token
request. Without ``-a`` the profile is ``$IOTSPOT_PROFILE``, else ``default``.

When the API answers 401 (the cached token was refused before it expired: a rotated secret, a
revoked token), the plugin drops it (``iotspot-helper logout``, as git's erase does), fetches a
fresh one and sends the request once more, as requests' digest auth replays a request; one
line on stderr says so. A body that cannot be read a second time (a stream that cannot be
rewound) is not sent again, but the token is dropped so the next command gets a fresh one.

The helper is ``$IOTSPOT_HELPER`` if set, else ``iotspot-helper`` on PATH, in
~/.local/bin or /usr/local/bin. The token is never sent over plain http to another machine.
``plugins/httpie/install.sh`` installs this module; see docs/integrations.md.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

from httpie.plugins import AuthPlugin
from requests.auth import AuthBase

__version__ = "0.1.0"

HELPER_TIMEOUT = 60  # seconds; the helper's own token request gives up after 20


class IotspotTokenError(Exception):
    """No token could be had; the message says why and what to do."""


def _find_helper():
    explicit = os.environ.get("IOTSPOT_HELPER")
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise IotspotTokenError(
                "IOTSPOT_HELPER is %s, which cannot be run" % explicit)
        return found
    extra = [os.path.expanduser("~/.local/bin"), "/usr/local/bin"]
    path = os.pathsep.join([os.environ.get("PATH", os.defpath)] + extra)
    found = shutil.which("iotspot-helper", path=path)
    if not found:
        raise IotspotTokenError(
            "iotspot-helper is not installed (not on PATH, in ~/.local/bin or "
            "/usr/local/bin); install it, or set IOTSPOT_HELPER to its path")
    return found


_LOOPBACK_V4 = re.compile(r"127(\.[0-9]{1,3}){3}")


def _is_loopback(host):
    """The rule of the JS plugins (plugins/postman/pre-request.js): localhost, ::1, or a
    dotted 127.x.y.z address; not every name that starts with "127."."""
    host = (host or "").lower()
    return host in ("localhost", "::1") or _LOOPBACK_V4.fullmatch(host) is not None


def _run_helper(profile, command):
    """Runs ``iotspot-helper [--profile P] COMMAND...``; returns the finished process, or
    raises IotspotTokenError when it fails."""
    args = [_find_helper()]
    if profile:
        args += ["--profile", profile]
    args += command
    try:
        proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=HELPER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise IotspotTokenError("iotspot-helper did not answer within %d seconds"
                                % HELPER_TIMEOUT) from None
    except OSError as err:
        raise IotspotTokenError("cannot run %s: %s" % (args[0], err.strerror)) from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise IotspotTokenError(
            lines[-1] if lines else "iotspot-helper exited with status %d" % proc.returncode)
    return proc


def drop_token(profile=None):
    """Drops the cached token of ``profile`` (None: the helper's default)."""
    _run_helper(profile, ["logout"])


def fetch_token(profile=None):
    """The access token of ``profile`` (None: the helper's default) from iotspot-helper."""
    proc = _run_helper(profile, ["token", "--json"])
    try:
        answer = json.loads(proc.stdout)
        token = answer["access_token"]
    except (ValueError, KeyError, TypeError):
        raise IotspotTokenError("iotspot-helper token --json printed no token") from None
    if not isinstance(token, str) or not token or "\n" in token or "\r" in token:
        raise IotspotTokenError("iotspot-helper token --json printed no usable token")
    return token


class IotspotAuth(AuthBase):
    """Adds the bearer token when the request is prepared (after HTTPie parsed its
    arguments, so a failure is reported as an error of the request)."""

    def __init__(self, profile=None):
        self.profile = profile
        self._replayed = False
        self._body_position = None

    def __call__(self, request):
        url = urlsplit(request.url)
        if url.scheme != "https" and not _is_loopback(url.hostname):
            raise IotspotTokenError(
                "refusing to send the token over plain %s to %s; use https://"
                % (url.scheme, url.hostname))
        request.headers["Authorization"] = "Bearer " + fetch_token(self.profile)
        try:
            self._body_position = request.body.tell()
        except (AttributeError, OSError):
            self._body_position = None
        request.register_hook("response", self._on_response)
        return request

    def _rewound(self, body):
        """True when ``body`` can be sent again: bytes, text, nothing, or a stream rewound
        to where it started."""
        if body is None or isinstance(body, (bytes, str)):
            return True
        if self._body_position is None:
            return False
        try:
            body.seek(self._body_position)
        except (AttributeError, OSError):
            return False
        return True

    def _on_response(self, response, **kwargs):
        """On the first 401: drop the token, and send the request once more with a fresh
        one (as requests' HTTPDigestAuth.handle_401 does)."""
        if response.status_code != 401 or self._replayed:
            return response
        self._replayed = True
        drop_token(self.profile)
        request = response.request.copy()
        if not self._rewound(request.body):
            sys.stderr.write("iotspot: the API refused the token; dropped it, so the next "
                             "command gets a fresh one (the body cannot be sent again)\n")
            return response
        request.headers["Authorization"] = "Bearer " + fetch_token(self.profile)
        sys.stderr.write("iotspot: the API refused the cached token; repeating the request "
                         "once with a fresh one\n")
        response.content  # read the refusal, so that its connection can be reused
        response.close()
        replayed = response.connection.send(request, **kwargs)
        replayed.history.append(response)
        replayed.request = request
        return replayed


class IotspotAuthPlugin(AuthPlugin):
    name = "iotspot token (iotspot-helper)"
    auth_type = "iotspot"
    description = ("Bearer token from iotspot-helper; -a PROFILE picks the profile "
                   "(default: $IOTSPOT_PROFILE, else \"default\")")
    auth_require = False
    auth_parse = False
    prompt_password = False

    def get_auth(self, username=None, password=None):
        profile = (self.raw_auth or "").strip() or None
        return IotspotAuth(profile)
