# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd keyring-packages and mbd-server's keyring_packages call without a build chroot: the
refusals (no URL, unknown repository, a suite that is not uploadable, HEAD), --no-wait handing
over one signed upload per flagged suite, and the follow mode ending FAILED (no chroot) with
exit code 1. Building, installing and migrating for real: tests/e2e/test_keyring_package.py."""

import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import pkgfixtures  # noqa: E402
from mbdtestlib import HomeTestCase, Server, run_mbd  # noqa: E402

PKG = "kcli-archive-keyring"


class TestKeyringCli(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "kcli", "--key-type", "ed25519", home=self.home)
        self.codename = pkgfixtures.host_codename()

    def events(self):
        out = run_mbd("events", "--json", home=self.home).stdout
        return [json.loads(line) for line in out.splitlines()]

    def test_no_url(self):
        proc = run_mbd("keyring-packages", home=self.home, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("--url URL", proc.stderr)
        self.assertEqual(self.events(), [])

    def test_refusals(self):
        proc = run_mbd("keyring-packages", "--url", "http://127.0.0.1:1", "--repository", "nosuch",
                       home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("nosuch", proc.stderr)
        proc = run_mbd("keyring-packages", "--url", "http://127.0.0.1:1", "-D",
                       f"{self.codename}-test-stable", home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"{self.codename}-test-stable is not uploadable", proc.stderr)
        proc = run_mbd("keyring-packages", "--url", "ftp://127.0.0.1:1", home=self.home,
                       check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ftp://127.0.0.1:1", proc.stderr)
        self.assertEqual(self.events(), [])

    def test_no_wait_then_follow_fails(self):
        proc = run_mbd("keyring-packages", "--url", "http://127.0.0.1:1", "--no-wait",
                       home=self.home)
        keys = proc.stdout.split()
        self.assertEqual(len(keys), 1, proc.stdout)  # repository test flags unstable only
        self.assertIn(keys[0], proc.stderr)
        stored = os.listdir(os.path.join(self.home, "packages", keys[0]))
        changes = [n for n in stored if n.endswith("_source.changes")]
        self.assertEqual(len(changes), 1, stored)
        self.assertTrue(changes[0].startswith(PKG + "_"), changes)

        # following runs the engine here: without a chroot the build fails, exit 1. The version
        # is the time to the second, and a second upload of a version that is being built is
        # rejected: the next second gives the second package a version of its own.
        time.sleep(1.1)
        proc = run_mbd("keyring-packages", "--url", "http://127.0.0.1:1", "-M",
                       home=self.home, check=False, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        types = [line.split()[0] for line in proc.stdout.splitlines()]
        self.assertEqual(types[0], "PACKAGING", proc.stdout)
        self.assertEqual(types[-1], "FAILED", proc.stdout)
        self.assertIn("no chroot", proc.stdout)
        self.assertIn("failed", proc.stderr)
        self.assertNotIn("MIGRATED", types)


class TestKeyringServer(HomeTestCase):
    def setUp(self):
        super().setUp()
        self.server = Server(self.home)
        self.server.login()  # keyring_packages is an admin call

    def tearDown(self):
        code, err = self.server.stop()
        super().tearDown()
        self.assertEqual(code, 0, err)

    def test_refusals(self):
        api = "/mini_buildd/api/keyring_packages/"
        status, _, data = self.server.get_json(api + "?repository=test")
        self.assertEqual(status, 400, data)
        self.assertIn("needs to be confirmed", data["detail"])
        api += "?confirm=keyring_packages&"
        status, ctype, data = self.server.get_json(api + "repository=nosuch")
        self.assertEqual(status, 404, data)
        self.assertEqual(ctype, "application/problem+json")
        self.assertIn("nosuch", data["detail"])
        codename = pkgfixtures.host_codename()
        status, _, data = self.server.get_json(
            api + f"distributions={codename}-test-stable+{codename}-test-unstable")
        self.assertEqual(status, 400, data)
        self.assertIn(f"{codename}-test-stable is not uploadable", data["detail"])
        request = urllib.request.Request(self.server.base + api, method="HEAD")
        with self.assertRaises(urllib.error.HTTPError) as raised:
            self.server.opener.open(request, timeout=30)
        self.assertEqual(raised.exception.code, 405)
        self.assertFalse(os.path.exists(os.path.join(self.home, "packages"))
                         and os.listdir(os.path.join(self.home, "packages")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
