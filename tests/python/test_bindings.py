# SPDX-License-Identifier: LGPL-2.1-or-later
"""libminibuildd through GObject-Introspection from Python (PyGObject), against the build tree."""

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
    # meson picks an interpreter with gi; getting here means the typelib is missing: a failure
    print(f"cannot import Mbd: {error}", file=sys.stderr)
    sys.exit(1)


class InstanceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.home = os.path.join(self.tmp, "home")

    def tearDown(self):
        subprocess.run(["gpgconf", "--homedir", os.path.join(self.home, "gnupg"), "--kill",
                        "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_open_and_status(self):
        instance = Mbd.Instance.new(self.home)
        instance.set_identity("pytest")
        instance.set_key_algorithm("ed25519")
        self.assertTrue(instance.open(Mbd.InstanceOpenFlags.CREATE, None))
        self.assertEqual(instance.props.identity, "pytest")
        self.assertEqual(len(instance.get_fingerprint()), 40)
        status = instance.get_status(None)
        self.assertEqual(status.get_identity(), "pytest")
        self.assertEqual(status.props.load, -1.0)
        self.assertEqual(status.get_chroots(), [])
        self.assertIn('"identity":"pytest"', status.to_json())

    def test_open_async(self):
        instance = Mbd.Instance.new(self.home)
        instance.set_key_algorithm("ed25519")
        loop = GLib.MainLoop()
        results = []

        def done(source, result):
            results.append(source.open_finish(result))
            loop.quit()

        instance.open_async(Mbd.InstanceOpenFlags.CREATE, None, done)
        GLib.timeout_add_seconds(60, loop.quit)
        loop.run()
        self.assertEqual(results, [True])
        self.assertTrue(instance.is_open())

    def test_error_domain(self):
        instance = Mbd.Instance.new(self.home)
        with self.assertRaises(GLib.Error) as caught:
            instance.open(Mbd.InstanceOpenFlags.NONE, None)
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.NOT_FOUND))


class VersionTest(unittest.TestCase):
    def test_compare(self):
        self.assertLess(Mbd.DebVersion.compare_strings("1.0~rc1", "1.0"), 0)
        self.assertGreater(Mbd.DebVersion.compare_strings("1:0.1", "2.0"), 0)
        self.assertEqual(Mbd.DebVersion.compare_strings("1.0-1", "0:1.0-1"), 0)
        a = Mbd.DebVersion.new("1:2.3-4")
        b = Mbd.DebVersion.new("1:2.3-4~bpo12+1")
        self.assertEqual(a.get_epoch(), 1)
        self.assertEqual(a.get_upstream(), "2.3")
        self.assertEqual(a.get_revision(), "4")
        self.assertGreater(Mbd.DebVersion.compare(a, b), 0)

    def test_invalid(self):
        with self.assertRaises(GLib.Error) as caught:
            Mbd.DebVersion.new("not a version")
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_VERSION))


class ControlTest(unittest.TestCase):
    def test_parse_and_write(self):
        control = Mbd.Control.new_from_string("Source: a\nBinary: a,\n b\n\nPackage: a\n", "x")
        self.assertEqual(control.get_n_paragraphs(), 2)
        first = control.get_paragraphs()[0]
        self.assertEqual(first.get("source"), "a")
        self.assertEqual(first.get_folded("Binary"), "a, b")
        self.assertEqual(first.get_fields(), ["Source", "Binary"])
        first.set("Version", "1.0")
        self.assertEqual(first.to_string(), "Source: a\nBinary: a,\n b\nVersion: 1.0\n")

    def test_duplicate_field(self):
        with self.assertRaises(GLib.Error) as caught:
            Mbd.Control.new_from_string("A: 1\na: 2\n", "dup.dsc")
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.DUPLICATE_FIELD))
        self.assertIn("dup.dsc:2", caught.exception.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
