"""Throw-away PKI for the end-to-end tests, made with the ``openssl`` CLI.

``make_pki(directory)`` creates, in a few tens of milliseconds:

* a test CA (EC P-256, basicConstraints CA:TRUE, keyUsage keyCertSign/cRLSign),
* a server certificate signed by it for ``IP:127.0.0.1, DNS:localhost``
  (CN=localhost, CA:FALSE, keyUsage digitalSignature, EKU serverAuth), valid
  for 2 days, which OpenSSL 3 accepts under strict verification,
* a "wrong name" server certificate signed by the same CA whose names do NOT
  cover 127.0.0.1 / localhost (for host-name verification negative tests),
* the certificate of an unrelated second CA ("other CA"), for
  chain-verification negative tests.

Private keys are written with mode 0600 and the directory is made 0700.
Nothing here ever disables verification: clients are expected to trust
``Pki.ca_cert``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Optional, Tuple, Union

PathLike = Union[str, os.PathLike]

DEFAULT_SAN = "IP:127.0.0.1,DNS:localhost"
DEFAULT_CN = "localhost"
WRONG_SAN = "DNS:wrong.example"
WRONG_CN = "wrong.example"
VALID_DAYS = 2

_REQ_CONFIG = """\
# Minimal, self-contained configuration: never depends on the system openssl.cnf.
[req]
distinguished_name = req_dn
prompt = no
utf8 = yes

[req_dn]
CN = unused

[v3_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

_SERVER_EXT = """\
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,{key_usage}
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = {san}
"""


@dataclasses.dataclass(frozen=True)
class Pki:
    """Paths (as str) of the generated PKI material."""

    directory: str
    ca_cert: str           # PEM, the CA the tests (and the helper) trust
    ca_key: str            # PEM, 0600
    server_cert: str       # PEM, leaf for `san` (default IP:127.0.0.1,DNS:localhost)
    server_key: str        # PEM, 0600
    other_ca_cert: str     # PEM, an unrelated CA: trusting it must fail the handshake
    wrong_name_cert: str   # PEM, signed by ca_cert but for DNS:wrong.example only
    wrong_name_key: str    # PEM, 0600
    san: str               # subjectAltName of server_cert, e.g. "IP:127.0.0.1,DNS:localhost"


class PkiError(RuntimeError):
    pass


def _openssl(*args: str) -> None:
    env = dict(os.environ)
    # Make sure a user/system OPENSSL_CONF cannot inject settings.
    env.pop("OPENSSL_CONF", None)
    proc = subprocess.run(
        ["openssl", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise PkiError(
            "openssl %s failed (exit %d): %s" % (args[0], proc.returncode, proc.stderr.strip())
        )


def _precreate_private(path: Path) -> None:
    """Create (or truncate) ``path`` with mode 0600 before openssl writes it."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _newkey_args(key_type: str) -> list:
    if key_type == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    if key_type == "rsa":
        return ["-newkey", "rsa:2048"]
    raise ValueError("key_type must be 'ec' or 'rsa', not %r" % (key_type,))


def _key_usage(key_type: str) -> str:
    # RSA key exchange (TLS 1.2 non-ECDHE) would need keyEncipherment; harmless to add.
    return "digitalSignature" if key_type == "ec" else "digitalSignature,keyEncipherment"


def _write_config(directory: Path) -> Path:
    cnf = directory / "openssl-req.cnf"
    cnf.write_text(_REQ_CONFIG)
    return cnf


def make_ca(directory: PathLike, name: str = "ca", cn: Optional[str] = None,
            key_type: str = "ec") -> Tuple[str, str]:
    """Create a self-signed CA; returns (cert_path, key_path)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cnf = _write_config(directory)
    cert = directory / ("%s.pem" % name)
    key = directory / ("%s.key" % name)
    _precreate_private(key)
    cn = cn or "iotspot-helper test CA %s" % secrets.token_hex(4)
    _openssl(
        "req", "-x509", "-new", "-config", str(cnf), "-extensions", "v3_ca",
        *_newkey_args(key_type), "-nodes", "-sha256",
        "-keyout", str(key), "-out", str(cert),
        "-days", str(VALID_DAYS), "-subj", "/CN=%s" % cn,
    )
    os.chmod(key, 0o600)
    return str(cert), str(key)


def make_server_cert(directory: PathLike, ca_cert: PathLike, ca_key: PathLike,
                     name: str = "server", san: str = DEFAULT_SAN,
                     cn: str = DEFAULT_CN, key_type: str = "ec") -> Tuple[str, str]:
    """Create a TLS server certificate signed by (ca_cert, ca_key).

    ``san`` is an openssl subjectAltName value, e.g. "IP:127.0.0.1,DNS:localhost"
    or "DNS:wrong.example"; empty for none (the CN alone). Returns (cert_path, key_path).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cnf = _write_config(directory)
    cert = directory / ("%s.pem" % name)
    key = directory / ("%s.key" % name)
    csr = directory / ("%s.csr" % name)
    ext = directory / ("%s.ext" % name)
    _precreate_private(key)
    _openssl(
        "req", "-new", "-config", str(cnf),
        *_newkey_args(key_type), "-nodes", "-sha256",
        "-keyout", str(key), "-out", str(csr), "-subj", "/CN=%s" % cn,
    )
    os.chmod(key, 0o600)
    ext_text = _SERVER_EXT.format(san=san, key_usage=_key_usage(key_type))
    if not san:  # a certificate that names its host only in the common name
        ext_text = ext_text.replace("subjectAltName = \n", "")
    ext.write_text(ext_text)
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-set_serial", "0x%x" % (secrets.randbits(126) | (1 << 126)),
        "-days", str(VALID_DAYS), "-sha256",
        "-extfile", str(ext), "-extensions", "v3_server", "-out", str(cert),
    )
    csr.unlink()
    return str(cert), str(key)


def make_pki(directory: PathLike, san: str = DEFAULT_SAN, cn: str = DEFAULT_CN,
             key_type: str = "ec") -> Pki:
    """Create the whole test PKI in ``directory`` (created 0700 if missing).

    ``san``/``cn`` set the names of ``server_cert``; pass e.g.
    ``san="DNS:wrong.example"`` to get a server certificate that does not match
    127.0.0.1 (``wrong_name_cert`` is always available as well).
    ``key_type`` is "ec" (P-256, default) or "rsa" (2048).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    ca_cert, ca_key = make_ca(directory, "ca", key_type=key_type)
    server_cert, server_key = make_server_cert(
        directory, ca_cert, ca_key, "server", san=san, cn=cn, key_type=key_type)
    wrong_cert, wrong_key = make_server_cert(
        directory, ca_cert, ca_key, "wrong-name", san=WRONG_SAN, cn=WRONG_CN,
        key_type=key_type)
    other_ca_cert, _other_ca_key = make_ca(
        directory, "other-ca", cn="unrelated test CA %s" % secrets.token_hex(4),
        key_type=key_type)
    return Pki(
        directory=str(directory),
        ca_cert=ca_cert,
        ca_key=ca_key,
        server_cert=server_cert,
        server_key=server_key,
        other_ca_cert=other_ca_cert,
        wrong_name_cert=wrong_cert,
        wrong_name_key=wrong_key,
        san=san,
    )


if __name__ == "__main__":  # manual use: python3 pki.py DIR
    if len(sys.argv) != 2:
        sys.exit("usage: pki.py DIRECTORY")
    print(make_pki(sys.argv[1]))
