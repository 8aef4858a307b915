# SPDX-License-Identifier: LGPL-2.1-or-later
"""The keyring package for real (issue 5; suite e2e; root, sbuild, the cached bookworm chroot of
chrootcache.py), with one build:

mbd-server's keyring_packages call builds e2e-archive-keyring into bookworm-test-unstable (the
suite the Default layout flags), the packager installs it and migrates it to stable. A real apt
(signed-by the instance key) sees it in unstable and stable and installs it; the installed
keyring verifies the repository's InRelease with gpgv, and a second apt root set up from the
package alone (its sources.list library and keyring) finds it too. The installed dput-ng
profile points to the server."""

import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import aptlib  # noqa: E402
from mbdtestlib import Server, run_mbd  # noqa: E402
from repotestlib import with_signed_by  # noqa: E402
from test_upload import CODENAME, UploadTestCase, events  # noqa: E402

PKG = "e2e-archive-keyring"


def keyring_events(home):
    return [e for e in events(home) if e["source"] == PKG]


class TestKeyringPackage(UploadTestCase):
    def wait_for(self, types, timeout=600):
        """Waits until the keyring package's events include every type of @types."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = {e["type"] for e in keyring_events(self.home)}
            if seen & {"FAILED", "REJECTED"}:
                raise AssertionError(f"{PKG}: {keyring_events(self.home)}")
            if types <= seen:
                return keyring_events(self.home)
            time.sleep(1)
        raise AssertionError(f"{PKG} not {types} in {timeout} s: {keyring_events(self.home)}")

    def sources(self, server, suite, key):
        out = run_mbd("sources-list", "--repository", "test", "--codename", CODENAME,
                      "--suite", suite, "--mirror", server.base, home=self.home).stdout
        return [with_signed_by(line, key) for line in out.splitlines() if line.strip()]

    def test_keyring_package(self):
        server = Server(self.home)
        try:
            server.login()  # keyring_packages is an admin call
            self.check_keyring_package(server)
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)

    def check_keyring_package(self, server):
        start = time.monotonic()
        status, _, data = server.get_json(
            "/mini_buildd/api/keyring_packages/?repository=test&confirm=keyring_packages")
        self.assertEqual(status, 200, data)
        self.assertEqual(len(data["keys"]), 1, data)
        key = data["keys"][0]
        found = self.wait_for({"PACKAGING", "INSTALLED", "MIGRATED"})
        installed = [e for e in found if e["type"] == "INSTALLED"]
        self.assertEqual(len(installed), 1, found)
        self.assertEqual(installed[0]["extra"]["timecode"], key)
        self.assertEqual(installed[0]["distribution"], f"{CODENAME}-test-unstable")
        version = installed[0]["version"]
        self.assertRegex(version, r"^\d{14}~test\d+\+1$")
        migrated = [e for e in found if e["type"] == "MIGRATED"]
        self.assertEqual([(e["distribution"], e["version"]) for e in migrated],
                         [(f"{CODENAME}-test-unstable", version)])
        print(f"keyring package: call to INSTALLED + MIGRATED {time.monotonic() - start:.1f} s")

        # a real apt with signed-by the instance key sees it in unstable and in stable
        key_file = aptlib.export_key(os.path.join(self.home, "gnupg"),
                                     os.path.join(self.tmp, "instance-key.gpg"))
        root = aptlib.AptRoot(os.path.join(self.tmp, "apt"))
        signed = root.add_key(key_file)
        root.set_sources(self.sources(server, "unstable", signed)
                         + self.sources(server, "stable", signed))
        root.update()
        madison = root.run("apt-cache", "madison", PKG).stdout
        for suite in ("unstable", "stable"):
            self.assertRegex(madison, rf"{re.escape(version)} \| .*{CODENAME}-test-{suite}/main",
                             madison)
        root.install(PKG)
        self.assertEqual(root.installed_version(PKG), version)

        # the installed keyring verifies the repository's signature
        keyring = os.path.join(root.path, "usr/share/keyrings", PKG + ".gpg")
        self.assertTrue(os.path.exists(os.path.join(root.path, "etc/apt/trusted.gpg.d",
                                                    PKG + ".gpg")))
        inrelease = os.path.join(self.tmp, "InRelease")
        with urllib.request.urlopen(f"{server.base}/repositories/test/dists/"
                                    f"{CODENAME}-test-stable/InRelease", timeout=30) as response, \
                open(inrelease, "wb") as f:
            f.write(response.read())
        proc = subprocess.run(["gpgv", "--keyring", keyring, inrelease], capture_output=True,
                              text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)

        # the dput-ng profile points to the server's upload path
        with open(os.path.join(root.path, "etc/dput.d/profiles/mini-buildd-e2e.json")) as f:
            profile = json.load(f)
        self.assertEqual(profile["fqdn"], f"127.0.0.1:{server.port}")
        self.assertEqual(profile["incoming"], "/upload")

        # an apt set up from the package alone: its stable list (signed-by its keyring)
        library = os.path.join(root.path, "usr/share", PKG, "sources.list.d", CODENAME)
        with open(os.path.join(library, "test_stable.list")) as f:
            lines = [line.replace(f"/usr/share/keyrings/{PKG}.gpg", keyring)
                     for line in f.read().splitlines()]
        bootstrap = aptlib.AptRoot(os.path.join(self.tmp, "apt2"))
        bootstrap.set_sources(lines)
        bootstrap.update()
        policy = bootstrap.run("apt-cache", "policy", PKG).stdout
        self.assertIn(f"Candidate: {version}", policy)


if __name__ == "__main__":
    unittest.main(verbosity=2)
