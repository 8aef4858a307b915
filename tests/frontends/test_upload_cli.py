# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd upload, events, cancel and retry without a build chroot: a garbage upload is REJECTED
(exit 1, the reason on standard error, the event in `mbd events --json` in mini-buildd's shape);
a good upload that cannot be built ends FAILED with the builder's reason; --no-wait prints the
key and leaves the package to the engine; cancel and retry act on it."""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import pkgfixtures  # noqa: E402
from mbdtestlib import HomeTestCase, run_mbd  # noqa: E402


def source_upload(workdir, name, version, distribution):
    src = os.path.join(workdir, f"{name}-{version}")
    os.makedirs(os.path.join(src, "debian", "source"))
    with open(os.path.join(src, "debian", "source", "format"), "w") as f:
        f.write("3.0 (native)\n")
    with open(os.path.join(src, "debian", "control"), "w") as f:
        f.write(f"Source: {name}\nMaintainer: T <t@example.org>\n\n"
                f"Package: {name}\nArchitecture: all\nDescription: t\n t\n")
    with open(os.path.join(src, "debian", "changelog"), "w") as f:
        f.write(f"{name} ({version}) {distribution}; urgency=medium\n\n  * Test.\n\n"
                " -- T <t@example.org>  Mon, 23 Nov 2026 10:00:00 +0000\n")
    subprocess.run(["dpkg-source", "-b", os.path.basename(src)], cwd=workdir, check=True,
                   capture_output=True)
    changes = os.path.join(workdir, f"{name}_{version}_source.changes")
    with open(changes, "w") as f:
        subprocess.run(["dpkg-genchanges", "-S"], cwd=src, check=True, stdout=f,
                       stderr=subprocess.DEVNULL)
    return changes


class TestUploadCli(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "cli", "--key-type", "ed25519", home=self.home)

    def events(self, *args):
        out = run_mbd("events", "--json", *args, home=self.home).stdout
        return [json.loads(line) for line in out.splitlines()]

    def test_garbage_rejected(self):
        upload = os.path.join(self.tmp, "up")
        os.makedirs(upload)
        changes = os.path.join(upload, "junk_1_source.changes")
        with open(changes, "w") as f:
            f.write("no changes file at all\n")
        proc = run_mbd("upload", changes, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("rejected", proc.stderr)
        self.assertIn("junk_1_source.changes", proc.stderr)
        self.assertTrue(proc.stdout.startswith("REJECTED "), proc.stdout)
        self.assertTrue(os.path.exists(changes), "the caller's file is copied, not taken")
        events = self.events()
        self.assertEqual(len(events), 1)
        event = events[0]
        self.assertEqual(list(event), ["type", "distribution", "source", "version", "timestamp",
                                       "extra"])
        self.assertEqual(event["type"], "REJECTED")
        self.assertEqual(event["extra"]["error"]["status"], 400)
        self.assertIn("junk_1_source.changes", event["extra"]["error"]["detail"])
        self.assertEqual(self.events("--after", "2999-01-01T00:00:00Z"), [])
        self.assertEqual(len(self.events("--type", "rejected")), 1)
        self.assertEqual(self.events("--type", "INSTALLED"), [])

    def test_failed_cancel_retry(self):
        changes = source_upload(self.tmp, "cli-up", pkgfixtures.layout_version("1.0", "test"),
                                f"{pkgfixtures.host_codename()}-test-unstable")
        proc = run_mbd("upload", changes, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        types = [line.split()[0] for line in proc.stdout.splitlines()]
        self.assertEqual(types, ["PACKAGING", "BUILDING", "BUILT", "FAILED"], proc.stdout)
        self.assertIn("no chroot", proc.stdout)
        failed = self.events("--type", "FAILED")[0]["extra"]["timecode"]

        # --no-wait: recorded, nothing runs it; cancel ends it
        proc = run_mbd("upload", "--no-wait", changes, home=self.home)
        key = proc.stdout.strip()
        self.assertNotEqual(key, failed)
        run_mbd("cancel", key, home=self.home)
        proc = run_mbd("cancel", key, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot be cancelled", proc.stderr)
        cancelled = [e for e in self.events("--type", "FAILED")
                     if e["extra"]["timecode"] == key]
        self.assertEqual(cancelled[0]["extra"]["error"]["detail"], "cancelled before its checks")

        proc = run_mbd("retry", failed, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("retried as package", proc.stderr)
        self.assertIn("FAILED", proc.stdout)
        proc = run_mbd("retry", "nope", home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("does not exist", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
