# SPDX-License-Identifier: LGPL-2.1-or-later
"""The acceptance test of issue 6: mini-buildd's own clients, unchanged, against mbd-server.
mini-buildd-api (mini-buildd-utils 2.2.8, from bookworm-backports: .ci/install-mini-buildd-utils)
runs status, ls, show, sources_list, dput_conf, pub_key and snapshot_ls and gets the result
shapes of the recorded samples; the staff call migrate with --auto-confirm moves a package (a
MIGRATED event); mini-buildd-events follows an upload through the packager to its final event.

The client logs in as the administrator mbd-server made at its first start, through its own
login flow (the endpoint names the user; the password comes from python3-keyring, whose backend
the test points at a small one of its own that reads it from the environment)."""

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


# A python3-keyring backend that gives mini-buildd's client the password of $MBD_TEST_PASSWORD
# (its way to log in without asking).
KEYRING_BACKEND = """
import os

import keyring.backend


class EnvKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        return os.environ.get("MBD_TEST_PASSWORD")

    def set_password(self, service, username, password):
        pass

    def delete_password(self, service, username):
        pass
"""


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
        with open(os.path.join(cls.client_home, "mbdtestkeyring.py"), "w") as f:
            f.write(KEYRING_BACKEND)
        with open(os.path.join(cls.home, "admin-password")) as f:
            cls.password = f.read().strip()
        cls.endpoint = f"http://admin@127.0.0.1:{cls.server.port}"

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.stop()
        super().tearDownClass()

    def client_env(self):
        return dict(os.environ, HOME=self.client_home, PYTHONWARNINGS="ignore",
                    PYTHONPATH=self.client_home, MBD_TEST_PASSWORD=self.password,
                    PYTHON_KEYRING_BACKEND="mbdtestkeyring.EnvKeyring",
                    XDG_CONFIG_HOME=os.path.join(self.client_home, ".config"),
                    XDG_DATA_HOME=os.path.join(self.client_home, ".local", "share"))

    def api(self, call, *args, check=True, endpoint=None):
        """mini-buildd-api -J CALL ENDPOINT ARGS; returns its parsed JSON output."""
        proc = subprocess.run(["/usr/bin/python3", API, "-J", "--script-mode", "--auto-confirm",
                               call, endpoint or self.endpoint, *args], capture_output=True,
                              text=True,
                              timeout=120, env=self.client_env())
        if not check:
            return proc
        self.assertEqual(proc.returncode, 0, f"mini-buildd-api {call}: {proc.stderr}")
        return json.loads(proc.stdout)

    def test_anonymous(self):
        # the NONE calls need no login; a STAFF call without one gets mini-buildd's 401
        data = self.api("status", endpoint=self.server.base)
        self.assertEqual(data["url"], self.server.base)
        proc = self.api("migrate", "hello-cl", self.unstable, check=False,
                        endpoint=self.server.base)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("API call 'migrate' needs authorization: STAFF", proc.stderr)
        self.assertIn(self.unstable, self.api("ls", "hello-cl")["test"])

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
        text = self.api("sources_list", "--codenames", self.codename, "--suites", "unstable",
                        "--repositories", "test")
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

    def test_setup(self):
        # the admin call with mini-buildd's own option set (its defaults included)
        data = self.api("setup")
        self.assertEqual(sorted(data), ["instances", "report", "setup"])
        self.assertIn("severity", data["report"])
        classes = {i["class"] for i in data["instances"]}
        self.assertIn("Repository", classes)
        repo = [i for i in data["instances"] if i["class"] == "Repository"][0]
        self.assertEqual(repo["identity"], repotestlib.REPO_ID)
        self.assertEqual(repo["status"], "ACTIVE")
        # and with update: a second repository appears
        data = self.api("setup", "--update", "all", "--repositories", f"cl2::{self.codename}")
        cl2 = [i for i in data["instances"] if i["identity"] == "cl2"]
        self.assertEqual([i["status"] for i in cl2], ["ACTIVE"], data)
        status = self.api("status", "--with-repositories", endpoint=self.server.base)
        self.assertIn("cl2", status["repositories"])

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
