# SPDX-License-Identifier: LGPL-2.1-or-later
"""Repositories through GObject-Introspection: layouts, distributions, repositories, snapshots."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import gi
    gi.require_version("Mbd", "1.0")
    from gi.repository import GLib, Mbd
except (ImportError, ValueError) as error:
    print(f"cannot import Mbd: {error}", file=sys.stderr)
    sys.exit(1)


class RepositoryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.home = os.path.join(self.tmp, "home")
        self.instance = Mbd.Instance.new(self.home)
        self.instance.set_key_algorithm("ed25519")
        self.instance.open(Mbd.InstanceOpenFlags.CREATE, None)

    def tearDown(self):
        subprocess.run(["gpgconf", "--homedir", os.path.join(self.home, "gnupg"), "--kill",
                        "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_layouts_and_distributions(self):
        self.assertIn("default", Mbd.Layout.list_builtin())
        layout = Mbd.Layout.new_builtin("default")
        self.assertEqual([s.get_name() for s in layout.get_suites()],
                         ["stable", "hotfix", "testing", "unstable", "snapshot", "experimental"])
        unstable = layout.lookup_suite("unstable")
        self.assertTrue(layout.check_version(unstable, "test", "12", "1.0~test12+1"))
        with self.assertRaises(GLib.Error) as caught:
            layout.check_version(unstable, "test", "12", "1.0")
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_VERSION))
        ok, codename, repo, suite, rollback = Mbd.Distribution.string_parse(
            "bookworm-test-stable-rollback2")
        self.assertEqual((codename, repo, suite, rollback), ("bookworm", "test", "stable", 2))
        dist = Mbd.Distribution.new_from_spec("bookworm:amd64,i386?")
        self.assertEqual(dist.get_architectures(), ["amd64", "i386"])
        self.assertEqual(dist.get_components()[0], "main")

    def test_repository(self):
        repos = self.instance.list_repositories()
        self.assertEqual([r.get_identity() for r in repos], ["test"])
        repo = Mbd.Repository.new("py", Mbd.Layout.new_builtin("default-no-rollbacks"))
        repo.add_distribution(Mbd.Distribution.new_from_spec("bookworm:amd64"))
        self.assertTrue(self.instance.add_repository(repo, None))
        again = self.instance.lookup_repository("py")
        self.assertEqual([d.get_codename() for d in again.get_distributions()], ["bookworm"])
        self.assertEqual(json.loads(self.instance.ls_json("nothing", None, None, None, False)), {})
        lines = self.instance.sources_list("py", None, "unstable", None, False, None, None)
        self.assertEqual(len(lines), 1)
        ok, problems = again.check(None)
        self.assertTrue(ok)
        self.assertEqual(problems, [])
        snap = again.create_snapshot("bookworm-py-stable", "one", None)
        self.assertEqual(snap.get_suite_path(), "bookworm-py-stable/snapshots/one")
        self.assertEqual([s.get_name() for s in again.list_snapshots("bookworm-py-stable")],
                         ["one"])


if __name__ == "__main__":
    unittest.main()
