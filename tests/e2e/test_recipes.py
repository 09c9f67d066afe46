"""The recipes of docs/fleet.md and docs/usage.md, run as written against the test token
server: the Kubernetes YAML parsed by a real parser (PyYAML, Debian's python3-yaml), each
container's command run with its environment and mounts (the mount paths moved into a
temporary directory), the Python snippet as the worker, and each CI script line. And no
recipe in README.md, docs/ or plugins/ puts a token on a command line.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Dict, List, Tuple

import yaml

from support.harness import HelperTestCase

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PRODUCTION_API = "https://api.iotspot.co"
# A token in argv: a command substitution or the token variable inside -H "...".
TOKEN_IN_ARGV = re.compile(r'-H\s*"\$\(|Bearer \$\(|Bearer \$\{?IOTSPOT_ACCESS_TOKEN')


def blocks(doc: str, language: str) -> List[str]:
    with open(os.path.join(ROOT, "docs", doc)) as f:
        text = f.read()
    return re.findall(r"^```%s\n(.*?)^```" % language, text, flags=re.S | re.M)


def python_snippet() -> str:
    (snippet,) = [b for b in blocks("usage.md", "python") if "IOTSPOT_ACCESS_TOKEN_FILE" in b]
    return snippet


class RecipesTest(HelperTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server.set(expires_in=4)
        self.mounts: Dict[str, str] = {}

    # -- a pod, moved into a directory ------------------------------------------------------
    def volume_dir(self, name: str) -> str:
        path = os.path.join(self.home, "volumes", name)
        os.makedirs(path, 0o700, exist_ok=True)
        return path

    def mount(self, container: dict, volumes: Dict[str, dict]) -> None:
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            directory = self.volume_dir(mount["name"])
            if "secret" in volume:
                with open(os.path.join(directory, "client-secret"), "w") as f:
                    f.write(self.client_secret + "\n")
            if "configMap" in volume:
                shutil.copy(self.pki.ca_cert, os.path.join(directory, "ca.pem"))
            self.mounts[mount["mountPath"]] = directory

    def local(self, text: str) -> str:
        for mount_path, directory in sorted(self.mounts.items(), key=lambda m: -len(m[0])):
            if text == mount_path or text.startswith(mount_path + "/"):
                return directory + text[len(mount_path):]
        return text

    def container_env(self, container: dict) -> Dict[str, str]:
        env = self.env(IOTSPOT_TOKEN_URL=self.server.token_url)
        for entry in container.get("env", []):
            self.assertIn("value", entry, "a variable from elsewhere: %r" % entry)
            env[entry["name"]] = self.local(str(entry["value"]))
        if "IOTSPOT_CLIENT_ID" in env:
            env["IOTSPOT_CLIENT_ID"] = self.client_id
        # The test CA stands in for the public CAs that trust iotspot's token endpoint.
        env.setdefault("IOTSPOT_CA_FILE", self.pki.ca_cert)
        # No Redis here: the shared cache has tests of its own (test_fleet.py).
        env.pop("IOTSPOT_SHARED_CACHE", None)
        env.pop("IOTSPOT_REDIS_PASSWORD_FILE", None)
        return env

    def command(self, container: dict, worker: List[str]) -> List[str]:
        command = [self.local(word) for word in container["command"]]
        self.assertEqual(command[0], "iotspot-helper")
        command[0] = self.bin
        return [w for word in command for w in (worker if word == "/app/worker" else [word])]

    def worker(self) -> List[str]:
        script = python_snippet().replace(PRODUCTION_API, self.server.api_url.rstrip("/"))
        script += ("\nimport sys\nr = get('/v1/ping')\nprint(r.status_code)\n"
                   "sys.exit(r.status_code != 200)\n")
        return [sys.executable, "-c", script]

    def worker_env(self, container: dict) -> Dict[str, str]:
        env = self.container_env(container)
        env["REQUESTS_CA_BUNDLE"] = self.pki.ca_cert
        return env

    def deployments(self) -> List[Tuple[dict, Dict[str, dict]]]:
        out = []
        for block in blocks("fleet.md", "yaml"):
            for doc in yaml.safe_load_all(block):
                if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                    spec = doc["spec"]["template"]["spec"]
                    out.append((spec, {v["name"]: v for v in spec.get("volumes", [])}))
        self.assertEqual(len(out), 2, "docs/fleet.md should hold two Deployments")
        return out

    def test_no_secret_in_an_environment_variable(self):
        for spec, _volumes in self.deployments():
            for container in spec.get("initContainers", []) + spec["containers"]:
                names = {entry["name"] for entry in container.get("env", [])}
                self.assertFalse(names & {"IOTSPOT_CLIENT_SECRET", "IOTSPOT_REDIS_PASSWORD"},
                                 container["name"])

    def test_the_native_sidecar_keeps_a_token_file_that_the_worker_reads(self):
        spec, volumes = self.deployments()[0]
        (sidecar,) = spec["initContainers"]
        self.assertEqual(sidecar["restartPolicy"], "Always")
        self.assertEqual(sidecar["command"][:2], ["iotspot-helper", "sink"])
        (worker,) = spec["containers"]
        token_volume = volumes[sidecar["volumeMounts"][0]["name"]]
        self.assertEqual(token_volume["emptyDir"]["medium"], "Memory")
        self.mount(sidecar, volumes)
        self.mount(worker, volumes)
        token_file = self.worker_env(worker)["IOTSPOT_ACCESS_TOKEN_FILE"]
        probe = [self.local(word) for word in sidecar["startupProbe"]["exec"]["command"]]
        self.assertNotEqual(subprocess.run(probe, timeout=10).returncode, 0)
        proc = subprocess.Popen(self.command(sidecar, []), env=self.container_env(sidecar),
                                stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 20
        while subprocess.run(probe, timeout=10).returncode != 0:  # the probe, as the kubelet
            self.assertLess(time.monotonic(), deadline, "the startup probe never succeeded")
            time.sleep(0.05)
        for _ in range(2):  # a second request after the token was refreshed
            answer = subprocess.run(self.worker(), env=self.worker_env(worker), text=True,
                                    capture_output=True, timeout=60)
            self.assertEqual((answer.returncode, answer.stdout), (0, "200\n"), answer.stderr)
            time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, stderr)
        self.assertFalse(os.path.exists(token_file))
        self.assertGreaterEqual(self.server.token_requests, 2)
        self.assertNoSecrets(stderr)

    def test_exec_keep_fresh_as_the_containers_command(self):
        spec, volumes = self.deployments()[1]
        (container,) = spec["containers"]
        self.mount(container, volumes)
        command = self.command(container, self.worker())
        self.assertEqual(command[1:4], ["exec", "--keep-fresh", "--"])
        env = self.worker_env(container)
        proc = subprocess.run(command, env=env, text=True, capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        self.assertEqual((proc.returncode, proc.stdout), (0, "200\n"), proc.stderr)
        self.assertEqual(os.listdir(env["XDG_RUNTIME_DIR"]), [])

    def test_the_ci_script_lines(self):
        (ci,) = [yaml.safe_load(b) for b in blocks("fleet.md", "yaml") if "script:" in b]
        secret = os.path.join(self.home, "secret-file")
        with open(secret, "w") as f:
            f.write(self.client_secret)
        env = self.env(IOTSPOT_CLIENT_ID=self.client_id, IOTSPOT_CLIENT_SECRET_FILE=secret,
                       IOTSPOT_TOKEN_URL=self.server.token_url, IOTSPOT_CA_FILE=self.pki.ca_cert,
                       CURL_CA_BUNDLE=self.pki.ca_cert,
                       PATH=os.pathsep.join([os.path.join(ROOT, "plugins", "curl"),
                                             os.path.dirname(self.bin), os.environ["PATH"]]))
        lines = ci["test"]["script"]
        self.assertEqual(len(lines), 2)
        for line in lines:
            with self.subTest(line):
                self.assertNotRegex(line, TOKEN_IN_ARGV)
                line = line.replace(PRODUCTION_API + "/v1/...",
                                    self.server.api_url.rstrip("/") + "/v1/ping")
                proc = subprocess.run(["bash", "-c", line], env=env, text=True,
                                      capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertNoSecrets(proc.stderr)

    def test_no_recipe_puts_a_token_on_a_command_line(self):
        found = []
        for top in ("README.md", "docs", "plugins"):
            path = os.path.join(ROOT, top)
            files = [path] if os.path.isfile(path) else [
                os.path.join(d, f) for d, _, names in os.walk(path) for f in names
                if "node_modules" not in d]
            for name in files:
                with open(name, errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if TOKEN_IN_ARGV.search(line):
                            found.append("%s:%d" % (os.path.relpath(name, ROOT), number))
        self.assertEqual(found, [])


if __name__ == "__main__":
    import unittest
    unittest.main()
