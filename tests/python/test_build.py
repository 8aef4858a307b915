# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdBuildRequest and MbdBuilder through GObject-Introspection: enums, out arguments, the
container-transfer list of builds and the signals of a request."""

import os
import shutil
import subprocess
import tempfile
import unittest

import gi

gi.require_version("Mbd", "1.0")
from gi.repository import GLib, Mbd  # noqa: E402


def make_dsc(workdir):
    src = os.path.join(workdir, "pyfake-1.0")
    os.makedirs(os.path.join(src, "debian", "source"))
    with open(os.path.join(src, "debian", "source", "format"), "w") as f:
        f.write("3.0 (native)\n")
    with open(os.path.join(src, "debian", "control"), "w") as f:
        f.write("Source: pyfake\nMaintainer: T <t@example.org>\n\n"
                "Package: pyfake\nArchitecture: any\nDescription: fake\n fake\n")
    with open(os.path.join(src, "debian", "changelog"), "w") as f:
        f.write("pyfake (1.0) unstable; urgency=medium\n\n  * Test.\n\n"
                " -- T <t@example.org>  Mon, 23 Nov 2026 10:00:00 +0000\n")
    subprocess.run(["dpkg-source", "-b", "pyfake-1.0"], cwd=workdir, check=True,
                   capture_output=True)
    return os.path.join(workdir, "pyfake_1.0.dsc")


class TestBuildBindings(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.home = os.path.join(self.tmp, "home")

    def tearDown(self):
        subprocess.run(["gpgconf", "--homedir", os.path.join(self.home, "gnupg"), "--kill",
                        "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_modes_and_snippets(self):
        self.assertIn("eatmydata", Mbd.build_list_snippets())
        self.assertEqual(Mbd.check_mode_to_string(Mbd.CheckMode.WARNFAIL), "warnfail")
        with self.assertRaises(GLib.Error) as ctx:
            Mbd.check_mode_from_string("strict")
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))
        self.assertEqual(Mbd.build_state_to_string(Mbd.BuildState.BUILT), "built")

    def test_request_lifecycle_without_chroot(self):
        dsc = make_dsc(self.tmp)
        request = Mbd.BuildRequest.new_from_dsc(dsc, "bookworm", "amd64")
        self.assertEqual(request.get_source(), "pyfake")
        self.assertIsNone(request.get_key())
        with self.assertRaises(GLib.Error) as ctx:
            request.set_snippets(["nope"])
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.NOT_FOUND))
        request.set_snippets(["eatmydata"])
        request.set_add_depends(["libfoo-dev"])

        instance = Mbd.Instance.new(self.home)
        instance.set_key_algorithm("ed25519")
        instance.open(Mbd.InstanceOpenFlags.CREATE, None)
        builder = instance.get_builder()
        self.assertEqual(list(builder.list()), [])

        states, lines = [], []
        request.connect("state-changed", lambda r, state: states.append(state))
        request.connect("log-line", lambda r, line: lines.append(line))
        builder.submit(request)
        context = GLib.MainContext.default()
        deadline = GLib.get_monotonic_time() + 30 * 1000000
        while (not Mbd.build_state_is_final(request.get_state())
               and GLib.get_monotonic_time() < deadline):
            context.iteration(True)
        self.assertEqual(states, [Mbd.BuildState.BUILDING, Mbd.BuildState.FAILED])
        self.assertIn("no chroot for bookworm/amd64", request.get_failure())
        self.assertTrue(any("no chroot" in line for line in lines), lines)

        builds = builder.list()
        self.assertEqual(len(builds), 1)
        self.assertEqual(builds[0].get_key(), request.get_key())
        self.assertEqual(builds[0].get_state(), Mbd.BuildState.FAILED)
        self.assertEqual(builds[0].dup_result_files(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
