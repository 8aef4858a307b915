# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdIncoming through GObject-Introspection: streaming a file as GLib.Bytes, the GError of
upload-failed, the boolean return of upload-complete, properties and the pending list."""

import hashlib
import os
import shutil
import tempfile
import unittest

import gi

gi.require_version("Mbd", "1.0")
from gi.repository import GLib, Mbd  # noqa: E402

DSC = b"Format: 3.0 (native)\nSource: foo\n"


def changes_text(name, data):
    lines = ["Format: 1.8", "Date: Mon, 01 Jan 2024 00:00:00 +0000", "Source: foo",
             "Architecture: source", "Version: 1.0", "Distribution: unstable",
             "Urgency: medium", "Maintainer: A <a@example.org>", "Changed-By: A <a@example.org>",
             "Changes:", " foo (1.0) unstable; urgency=medium", " .", "   * Test."]
    for field, algo, extra in (("Checksums-Sha1", "sha1", ""),
                               ("Checksums-Sha256", "sha256", ""),
                               ("Files", "md5", " devel optional")):
        digest = hashlib.new(algo, data).hexdigest()
        lines += [f"{field}:", f" {digest} {len(data)}{extra} {name}"]
    return ("\n".join(lines) + "\n").encode()


class TestIncomingBindings(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.incoming = Mbd.Incoming.new(os.path.join(self.tmp, "incoming"))
        self.completed, self.failed = [], []
        self.incoming.connect("upload-complete", self.on_complete)
        self.incoming.connect("upload-failed",
                              lambda _, name, error: self.failed.append((name, error)))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def on_complete(self, incoming, changes_path, directory):
        self.completed.append((changes_path, sorted(os.listdir(directory))))
        return False

    def put(self, name, data):
        f = self.incoming.begin_file(name, len(data))
        f.write(GLib.Bytes.new(data))
        f.finish()

    def test_upload(self):
        self.assertEqual(self.incoming.props.timeout, Mbd.INCOMING_DEFAULT_TIMEOUT)
        self.incoming.props.max_file_size = 1000
        self.assertEqual(self.incoming.get_max_file_size(), 1000)
        self.put("foo_1.0_source.changes", changes_text("foo_1.0.dsc", DSC))
        self.assertEqual(self.incoming.dup_pending(), ["foo_1.0_source.changes"])
        self.assertEqual(self.completed, [])
        self.put("foo_1.0.dsc", DSC)
        self.assertEqual(self.incoming.dup_pending(), [])
        self.assertEqual(len(self.completed), 1)
        path, files = self.completed[0]
        self.assertTrue(path.endswith("/foo_1.0_source.changes"))
        self.assertEqual(files, ["foo_1.0.dsc", "foo_1.0_source.changes"])

    def test_errors(self):
        with self.assertRaises(GLib.Error) as ctx:
            self.incoming.begin_file("../x.dsc", 1)
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.UNSAFE_FILENAME))
        self.incoming.props.max_file_size = 10
        with self.assertRaises(GLib.Error) as ctx:
            self.incoming.begin_file("x.dsc", 11)
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.TOO_LARGE))
        with self.assertRaises(GLib.Error):
            self.put("bad.changes", b"garbage\n")
        self.assertEqual(len(self.failed), 1)
        name, error = self.failed[0]
        self.assertEqual(name, "bad.changes")
        self.assertTrue(error.matches(Mbd.error_quark(), Mbd.Error.PARSE))
        self.assertIn("bad.changes:1:", error.message)


if __name__ == "__main__":
    unittest.main()
