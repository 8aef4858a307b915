# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd chroot: usage errors, listing, and a create/ls/status/rm round trip from a tiny fake
chroot tarball (no network; the real mmdebstrap runs in tests/e2e)."""

import json
import os
import subprocess
import unittest

from mbdtestlib import MBD, HomeTestCase, run_mbd


class ChrootCli(HomeTestCase):
    def setUp(self):
        super().setUp()
        # As root the build user must reach the chroots (as in a daemon home like /var/lib/mbd).
        os.chmod(self.tmp, 0o711)
        run_mbd("init", "--identity", "cli", "--key-type", "ed25519", home=self.home)

    def fake_tarball(self):
        tree = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(tree, "usr", "bin"))
        with open(os.path.join(tree, "usr", "bin", "apt-get"), "w") as f:
            f.write("#!/bin/sh\n")
        tarball = os.path.join(self.tmp, "fake.tar.zst")
        subprocess.run(["tar", "--zstd", "-cf", tarball, "-C", tree, "."], check=True)
        return tarball

    def test_usage_errors(self):
        proc = run_mbd("chroot", home=self.home, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("mbd chroot create CODENAME", proc.stderr)
        proc = run_mbd("chroot", "frob", home=self.home, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown chroot command 'frob'", proc.stderr)
        proc = run_mbd("chroot", "create", home=self.home, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("exactly one CODENAME", proc.stderr)
        proc = run_mbd("chroot", "create", "bookworm", "--backend", "lxc", home=self.home,
                       check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Unknown chroot backend 'lxc'", proc.stderr)
        proc = run_mbd("chroot", "create", "../etc", "--arch", "amd64", home=self.home,
                       check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Invalid codename '../etc'", proc.stderr)

    def test_missing(self):
        self.assertIn("No chroots", run_mbd("chroot", "ls", home=self.home).stdout)
        self.assertEqual(json.loads(run_mbd("chroot", "ls", "--json", home=self.home).stdout), [])
        proc = run_mbd("chroot", "rm", "bookworm", "--arch", "amd64", home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("No chroot bookworm/amd64", proc.stderr)
        proc = run_mbd("chroot", "check", "bookworm", home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("No chroot bookworm to check", proc.stderr)

    def test_build_creates_missing_chroot(self):
        # mbd build makes the chroot on first need (with the progress of chroot create): here a
        # stand-in mmdebstrap that records its call and fails, so the build stops after it
        import pkgfixtures
        factory = pkgfixtures.PackageFactory(os.path.join(self.tmp, "pkgs"))
        source = factory.source("firstneed", "1.0")
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir)
        marker = os.path.join(self.tmp, "mmdebstrap-called")
        with open(os.path.join(bindir, "mmdebstrap"), "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" > {marker}\necho 'I: stand-in fails'\nexit 3\n")
        os.chmod(os.path.join(bindir, "mmdebstrap"), 0o755)
        env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
        proc = subprocess.run([MBD, "--home", self.home, "build", source.dsc, "--dist", "bookworm",
                               "--arch", "amd64"], capture_output=True, text=True, env=env,
                              timeout=120)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("no chroot for bookworm/amd64 yet: creating it first", proc.stderr)
        with open(marker) as f:
            self.assertIn("bookworm", f.read())
        # nothing was queued for a chroot that could not be made
        builds = json.loads(run_mbd("build", "ls", "--json", home=self.home).stdout)
        self.assertEqual(builds, [])

    def test_round_trip(self):
        tarball = self.fake_tarball()
        proc = run_mbd("chroot", "create", "bookworm", "--arch", "amd64", "--from", tarball,
                       "--mirror", "http://mirror.example/debian", home=self.home)
        path = os.path.join(self.home, "chroots", "bookworm", "amd64", "chroot.tar.zst")
        self.assertIn(f"Created chroot bookworm/amd64 (unshare)", proc.stdout)
        self.assertIn(path, proc.stdout)
        self.assertIn("[100%] Chroot created", proc.stderr)
        [entry] = json.loads(run_mbd("chroot", "ls", "--json", home=self.home).stdout)
        self.assertEqual(entry, {"codename": "bookworm", "architecture": "amd64",
                                 "backend": "unshare", "state": "active", "path": path,
                                 "mirror": "http://mirror.example/debian", "message": None})
        self.assertRegex(run_mbd("chroot", "ls", home=self.home).stdout,
                         r"bookworm/amd64 +unshare +active +" + path)
        status = json.loads(run_mbd("status", "--json", home=self.home).stdout)
        self.assertEqual(status["chroots"], ["bookworm:amd64"])

        proc = run_mbd("chroot", "create", "bookworm", "--arch", "amd64", "--from", tarball,
                       home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("exists already", proc.stderr)

        run_mbd("chroot", "rm", "bookworm", "--arch", "amd64", home=self.home)
        self.assertEqual(os.listdir(os.path.join(self.home, "chroots")), [])
        status = json.loads(run_mbd("status", "--json", home=self.home).stdout)
        self.assertEqual(status["chroots"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
