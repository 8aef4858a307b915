# SPDX-License-Identifier: LGPL-2.1-or-later
"""Mbd.Packager.port and port_ext through GObject-Introspection: the zero-terminated out lists
of keys and versions, GError codes, and the async port_ext with its finish."""

import os
import re
import subprocess
import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402

DIST = "bookworm-test-unstable"


def source_changes(workdir, name, version):
    src = os.path.join(workdir, name)
    os.makedirs(os.path.join(src, "debian", "source"))
    with open(os.path.join(src, "debian", "source", "format"), "w") as f:
        f.write("3.0 (native)\n")
    with open(os.path.join(src, "debian", "control"), "w") as f:
        f.write(f"Source: {name}\nMaintainer: T <t@example.org>\n\n"
                f"Package: {name}\nArchitecture: all\nDescription: t\n t\n")
    with open(os.path.join(src, "debian", "changelog"), "w") as f:
        f.write(f"{name} ({version}) {DIST}; urgency=medium\n\n  * Test.\n\n"
                " -- T <t@example.org>  Mon, 23 Nov 2026 10:00:00 +0000\n")
    subprocess.run(["dpkg-source", "-b", name], cwd=workdir, check=True, capture_output=True)
    changes = os.path.join(workdir, f"{name}_{version}_source.changes")
    with open(changes, "w") as f:
        subprocess.run(["dpkg-genchanges", "-S"], cwd=src, check=True, stdout=f,
                       stderr=subprocess.DEVNULL)
    return changes


class TestPortBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "test"

    def setUp(self):
        super().setUp()
        self.packager = self.instance.get_packager()

    def tearDown(self):
        self.packager = None
        super().tearDown()

    def test_port(self):
        repo = self.instance.lookup_repository("test")
        if DIST not in repo.list_distribution_strings(False):
            self.skipTest("the default repository is not on bookworm")
        with self.assertRaises(GLib.Error) as ctx:
            self.packager.port("mbd-py", DIST, [DIST], None, None, None)
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.NOT_FOUND))

        changes = source_changes(self.tmp, "mbd-py", "1.0~test12+1")
        self.assertTrue(repo.include(DIST, [changes], None))
        ok, keys, versions = self.packager.port("mbd-py", DIST, [DIST], None,
                                                ["lintian-mode=disabled"], None)
        self.assertTrue(ok)
        self.assertEqual(len(keys), 1)
        self.assertRegex(versions[0], r"^1\.0~test12\+1\+rebuilt[0-9]{14}$")
        ok, state = self.packager.lookup_state(keys[0])
        self.assertEqual(state, Mbd.PackageState.CHECKING)

    def test_port_ext_async(self):
        loop = GLib.MainLoop()
        outcome = []

        def done(packager, result):
            try:
                outcome.append(packager.port_ext_finish(result))
            except GLib.Error as error:
                outcome.append(error)
            loop.quit()

        url = "file://" + os.path.join(self.tmp, "nothing", "x_1.dsc")
        self.packager.port_ext_async(url, [DIST], True, None, None, done)
        loop.run()
        self.assertIsInstance(outcome[0], GLib.Error)
        self.assertIn("x_1.dsc", outcome[0].message)
        self.assertTrue(re.search(r"No such file|not exist", outcome[0].message), outcome[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
