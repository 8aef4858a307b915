# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdRemote through GObject-Introspection: the list of remotes (a container of owned objects),
the handshake signed by one instance and verified by another, and wake_async on a main loop."""

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


class RemoteTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.instances = {}
        for name in ("one", "two"):
            instance = Mbd.Instance.new(os.path.join(self.tmp, name))
            instance.set_identity(name)
            instance.set_key_algorithm("ed25519")
            self.assertTrue(instance.open(Mbd.InstanceOpenFlags.CREATE, None))
            self.instances[name] = instance

    def tearDown(self):
        self.instances.clear()
        for name in ("one", "two"):
            subprocess.run(["gpgconf", "--homedir", os.path.join(self.tmp, name, "gnupg"),
                            "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_list_and_handshake(self):
        one, two = self.instances["one"], self.instances["two"]
        remote = one.add_remote("http://127.0.0.1:9/")
        self.assertEqual(remote.get_url(), "http://127.0.0.1:9")
        self.assertEqual(remote.get_state(), Mbd.RemoteState.ADDED)
        listed = one.list_remotes()
        self.assertEqual([r.get_url() for r in listed], ["http://127.0.0.1:9"])
        del listed
        signed = two.sign_handshake(None, None)
        self.assertIn(b"Hand Shake", signed.get_data())
        with self.assertRaises(GLib.Error) as caught:
            one.verify_handshake(signed, None)
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.UNKNOWN_SIGNER))
        with self.assertRaises(GLib.Error) as caught:
            remote.activate()
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))
        self.assertTrue(one.remove_remote("http://127.0.0.1:9"))
        self.assertEqual(one.list_remotes(), [])

    def test_wake_async(self):
        remote = self.instances["one"].add_remote("http://127.0.0.1:9")
        loop = GLib.MainLoop()
        errors = []

        def done(source, result):
            try:
                source.wake_finish(result)
            except GLib.Error as error:
                errors.append(error)
            loop.quit()

        remote.wake_async(0, 2, None, done)
        GLib.timeout_add_seconds(60, loop.quit)
        loop.run()
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].matches(Mbd.error_quark(), Mbd.Error.UNREACHABLE))
        self.assertIn("2 attempts", errors[0].message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
