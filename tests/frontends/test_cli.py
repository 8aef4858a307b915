# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd CLI: --version, init, status, exit codes, concurrent init of one home."""

import json
import os
import re
import sqlite3
import subprocess
import unittest

from mbdtestlib import MBD, HomeTestCase, run_mbd

FPR = re.compile(r"^Fingerprint: ([0-9A-F]{40})$", re.M)


class CliTest(HomeTestCase):
    def test_version(self):
        proc = run_mbd("--version")
        self.assertRegex(proc.stdout, r"^mbd \d+\.\d+\.\d+\n$")

    def test_init_then_status(self):
        proc = run_mbd("init", "--identity", "clitest", "--key-type", "ed25519", home=self.home)
        fpr = FPR.search(proc.stdout).group(1)
        self.assertIn("Instance:    clitest", proc.stdout)

        # The fingerprint printed is the key in the instance's GnuPG home
        listing = subprocess.run(
            ["gpg", "--homedir", os.path.join(self.home, "gnupg"), "--with-colons",
             "--list-secret-keys"], capture_output=True, text=True, check=True).stdout
        self.assertIn(f"fpr:::::::::{fpr}:", listing)

        status = run_mbd("status", "--json", home=self.home)
        data = json.loads(status.stdout)
        self.assertEqual(data["identity"], "clitest")
        self.assertEqual(data["load"], -1.0)
        self.assertEqual(data["chroots"], [])
        self.assertEqual(data["remotes"], [])
        self.assertEqual(data["url"], "http://127.0.0.1:8066")
        self.assertEqual(sorted(data), sorted(["version", "identity", "url", "incoming_url",
                                               "load", "chroots", "remotes"]))

        human = run_mbd("status", home=self.home).stdout
        self.assertIn(fpr, human)
        self.assertRegex(human, r"Engine:\s+stopped")

        # init again: same instance, same key
        again = run_mbd("init", home=self.home)
        self.assertEqual(FPR.search(again.stdout).group(1), fpr)

    def test_default_home_from_environment(self):
        env = dict(os.environ, MBD_HOME=self.home)
        proc = subprocess.run([MBD, "init", "--key-type", "ed25519"], env=env,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.home, "mbd.sqlite")))

    def test_exit_codes(self):
        missing = run_mbd("status", home=self.home, check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(f"{self.home} does not exist", missing.stderr)
        self.assertIn("mbd init --home", missing.stderr)
        self.assertFalse(os.path.exists(self.home))

        self.assertEqual(run_mbd("frobnicate", check=False).returncode, 2)
        self.assertEqual(run_mbd("status", "--no-such-option", home=self.home,
                                 check=False).returncode, 2)
        self.assertEqual(run_mbd(check=False).returncode, 2)
        bad = run_mbd("init", "--identity", "no_underscores", home=self.home, check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("identity 'no_underscores' is invalid", bad.stderr)

    def test_concurrent_init(self):
        """Several processes creating the same home at once: one key, one consistent database."""
        procs = [subprocess.Popen([MBD, "--home", self.home, "init", "--key-type", "ed25519"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        # and readers hammering status while they run
        readers = [subprocess.Popen([MBD, "--home", self.home, "status", "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(4)]
        fprs = set()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            fprs.add(FPR.search(out).group(1))
        for proc in readers:
            proc.communicate(timeout=120)
            self.assertIn(proc.returncode, (0, 1))
        self.assertEqual(len(fprs), 1)

        listing = subprocess.run(
            ["gpg", "--homedir", os.path.join(self.home, "gnupg"), "--with-colons",
             "--list-secret-keys"], capture_output=True, text=True, check=True).stdout
        self.assertEqual(listing.count("\nsec:") + listing.startswith("sec:"), 1)

        db = sqlite3.connect(os.path.join(self.home, "mbd.sqlite"))
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(db.execute("SELECT value FROM settings WHERE key = 'signing-key'")
                         .fetchone()[0], fprs.pop())
        db.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
