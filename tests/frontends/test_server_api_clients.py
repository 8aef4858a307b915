# SPDX-License-Identifier: LGPL-2.1-or-later
"""The acceptance test of issue 6: mini-buildd's own clients, unchanged, against mbd-server.
mini-buildd-api (mini-buildd-utils 2.2.8, from bookworm-backports: .ci/install-mini-buildd-utils)
runs status, ls, show, sources_list, dput_conf, pub_key and snapshot_ls and gets the result
shapes of the recorded samples; the staff call migrate with --auto-confirm moves a package (a
MIGRATED event); mini-buildd-events follows an upload through the packager to its final event.

Until users and logins exist, mbd-server accepts changing calls from loopback without a login,
so the client runs without a user in its endpoint."""

import json
import os
import shutil
import subprocess
import tempfile

import repotestlib
from mbdtestlib import Server

API = shutil.which("mini-buildd-api")
EVENTS = shutil.which("mini-buildd-events")
LS_KEYS = ["architecture", "component", "rollbacks", "version"]
SHOW_KEYS = sorted(LS_KEYS + ["dsc_path", "changes_paths", "uploadable", "migrates_to",
                              "is_migrated"])


class ClientsTest(repotestlib.RepoTestCase):
    @classmethod
    def setUpClass(cls):
        if API is None or EVENTS is None:
            raise AssertionError("mini-buildd-api/mini-buildd-events missing: run "
                                 ".ci/install-mini-buildd-utils (mini-buildd-utils from "
                                 "bookworm-backports)")
        super().setUpClass()
        cls.version = repotestlib.pkgfixtures.layout_version("1.0", repotestlib.REPO_ID)
        cls.unstable = f"{cls.codename}-test-unstable"
        for package in ("hello-cl", "migrate-cl"):
            changes, _, _ = cls.factory.package_set(package, cls.version, cls.unstable)
            repotestlib.run_mbd("include", cls.unstable, changes, home=cls.home)
        cls.server = Server(cls.home)
        # the clients' own HOME: config, keyring and cache stay in the test's directory
        cls.client_home = tempfile.mkdtemp(prefix="cl-", dir=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.stop()
        super().tearDownClass()

    def client_env(self):
        return dict(os.environ, HOME=self.client_home, PYTHONWARNINGS="ignore",
                    XDG_CONFIG_HOME=os.path.join(self.client_home, ".config"),
                    XDG_DATA_HOME=os.path.join(self.client_home, ".local", "share"))

    def api(self, call, *args, check=True):
        """mini-buildd-api -J CALL ENDPOINT ARGS; returns its parsed JSON output."""
        proc = subprocess.run(["/usr/bin/python3", API, "-J", "--script-mode", "--auto-confirm",
                               call, self.server.base, *args], capture_output=True, text=True,
                              timeout=120, env=self.client_env())
        if not check:
            return proc
        self.assertEqual(proc.returncode, 0, f"mini-buildd-api {call}: {proc.stderr}")
        return json.loads(proc.stdout)

    def test_status(self):
        data = self.api("status")
        self.assertEqual(sorted(data), sorted(["version", "identity", "url", "incoming_url",
                                               "load", "chroots", "remotes"]))
        self.assertEqual(data["url"], self.server.base)
        with_repos = self.api("status", "--with-repositories")
        layout = with_repos["repositories"]["test"]["layout"]
        self.assertEqual(layout["unstable"], {"uploadable": True, "experimental": False,
                                              "migrates_to": "testing"})

    def test_ls_and_show(self):
        ls = self.api("ls", "hello-cl")
        self.assertEqual(sorted(ls["test"][self.unstable]), LS_KEYS)
        self.assertEqual(ls["test"][self.unstable]["version"], self.version)
        self.assertEqual(self.api("ls", "doesnotexist"), {})
        self.assertEqual(self.api("ls", "hello-cl", "--codenames", "nosuchcodename"), {})
        show = self.api("show", "hello-cl", "--repositories", "test")
        self.assertEqual(sorted(show["test"][self.unstable]), SHOW_KEYS)

    def test_sources_list(self):
        text = self.api("sources_list", "--codenames", self.codename, "--suites", "unstable")
        self.assertEqual(text, f"deb [] {self.server.base}/repositories/test {self.unstable} "
                               "main contrib non-free non-free-firmware\n")
        everything = self.api("sources_list", "--types", "deb", "deb-src", "--rollbacks", "1")
        self.assertIn(f"deb-src [] {self.server.base}/repositories/test {self.unstable} ",
                      everything)

    def test_dput_conf_and_pub_key(self):
        self.assertTrue(self.api("dput_conf").startswith("[mini-buildd-acc]\n"))
        self.assertTrue(self.api("pub_key").startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"))

    def test_snapshot_ls(self):
        self.assertEqual(self.api("snapshot_ls", f"{self.codename}-test-stable"), [])

    def test_errors_reach_the_client(self):
        proc = self.api("ls", check=False)
        self.assertNotEqual(proc.returncode, 0)
        proc = self.api("snapshot_ls", "nosuchdist", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("distribution", proc.stderr)

    def test_migrate_and_events(self):
        self.assertEqual(self.api("migrate", "migrate-cl", self.unstable), {})
        self.assertIn(f"{self.codename}-test-testing", self.api("ls", "migrate-cl")["test"])
        # mini-buildd-events replays the past MIGRATED event and exits on it
        proc = subprocess.run(["/usr/bin/python3", EVENTS, self.server.base, "-A", "epoch",
                               "-S", "migrate-cl", "-E", "MIGRATED"], capture_output=True,
                              text=True, timeout=120, env=self.client_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('"MIGRATED"', proc.stdout)
        self.assertIn(self.unstable, proc.stdout)


if __name__ == "__main__":
    repotestlib.main()
