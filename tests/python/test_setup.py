# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdSetup through GObject-Introspection: set_option and its GError, inspect's container array
of MbdSetupInstance with the severity out parameter, the status enum, and run_async on a GLib
main loop with the progress signal (an update of one repository: no network)."""

import hashlib
import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402


class TestSetupBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "pysetup"

    def setUp(self):
        super().setUp()


    def test_inspect_and_run(self):
        setup = Mbd.Setup.new(self.instance)
        with self.assertRaises(GLib.Error) as raised:
            setup.set_option("repositories", "nocodenames")
        self.assertTrue(raised.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))
        self.assertIn("'repositories'", raised.exception.message)
        setup.set_option("repositories", "py:Default:trixie")
        instances, severity = setup.inspect()
        self.assertEqual(severity, 2)
        by = {(i.get_class_name(), i.get_identity()): i for i in instances}
        repo = by[("Repository", "py")]
        self.assertEqual(repo.get_status(), Mbd.SetupStatus.MISSING)
        self.assertEqual(repo.get_id(), hashlib.sha256(b"Repository\npy").hexdigest())
        self.assertEqual(Mbd.Setup.compute_id("Repository", "py"), repo.get_id())
        self.assertEqual(Mbd.SetupStatus.get_severity(Mbd.SetupStatus.FAILED), 3)

        setup.set_option("update", repo.get_id())
        seen = []
        setup.connect("progress", lambda s, item, action: seen.append(
            (action, item.get_identity())))
        loop = GLib.MainLoop()
        results = []

        def done(source, result):
            results.append(source.run_finish(result))
            loop.quit()

        setup.run_async(None, done)
        GLib.timeout_add_seconds(60, loop.quit)
        loop.run()
        self.assertEqual(results, [True])
        self.assertEqual(seen, [("update", "py")])
        instances, severity = setup.inspect()
        by = {(i.get_class_name(), i.get_identity()): i for i in instances}
        self.assertEqual(by[("Repository", "py")].get_status(), Mbd.SetupStatus.ACTIVE)


if __name__ == "__main__":
    unittest.main()
