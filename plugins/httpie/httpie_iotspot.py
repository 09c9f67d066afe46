"""iotspot-helper for HTTPie: the auth type ``iotspot``.

    http --auth-type=iotspot https://api.iotspot.co/v1/...
    http --auth-type=iotspot -a staging https://...      # the helper profile "staging"

Sends ``Authorization: Bearer <token>`` with a token from ``iotspot-helper token --json``
(run without a shell; the token comes back on its standard output, never on a command line).
The helper caches the token until shortly before it expires, so repeated calls cost no token
request. Without ``-a`` the profile is ``$IOTSPOT_PROFILE``, else ``default``.

The helper is ``$IOTSPOT_HELPER`` if set, else ``iotspot-helper`` on PATH, in
~/.local/bin or /usr/local/bin. The token is never sent over plain http to another machine.
``plugins/httpie/install.sh`` installs this module; see docs/integrations.md.
"""

import json
import os
import re
import shutil
import subprocess
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


def fetch_token(profile=None):
    """The access token of ``profile`` (None: the helper's default) from iotspot-helper."""
    args = [_find_helper()]
    if profile:
        args += ["--profile", profile]
    args += ["token", "--json"]
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

    def __call__(self, request):
        url = urlsplit(request.url)
        if url.scheme != "https" and not _is_loopback(url.hostname):
            raise IotspotTokenError(
                "refusing to send the token over plain %s to %s; use https://"
                % (url.scheme, url.hostname))
        request.headers["Authorization"] = "Bearer " + fetch_token(self.profile)
        return request


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
