# SPDX-License-Identifier: LGPL-2.1-or-later
"""Package files and OpenPGP through GObject-Introspection from Python: a real source package
built by dpkg-source, a real .deb built by dpkg-deb, signing and verification with real keys."""

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


class TmpTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")

    def tearDown(self):
        for home in ("signer", "verifier"):
            subprocess.run(["gpgconf", "--homedir", os.path.join(self.tmp, home), "--kill",
                            "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


class SourcePackageTest(TmpTestCase):
    def make_source(self):
        src = os.path.join(self.tmp, "pyhello-1.0")
        os.makedirs(os.path.join(src, "debian", "source"))
        files = {
            "debian/source/format": "3.0 (native)\n",
            "debian/control": "Source: pyhello\nMaintainer: T <t@example.org>\n\n"
                              "Package: pyhello\nArchitecture: all\nDescription: x\n y\n",
            "debian/changelog": "pyhello (1.0) unstable; urgency=low\n\n  * x\n\n"
                                " -- T <t@example.org>  Mon, 23 Nov 2026 00:00:00 +0000\n",
        }
        for name, text in files.items():
            with open(os.path.join(src, name), "w") as f:
                f.write(text)
        subprocess.run(["dpkg-source", "-b", "pyhello-1.0"], cwd=self.tmp, check=True,
                       capture_output=True)
        return os.path.join(self.tmp, "pyhello_1.0.dsc")

    def test_dsc_verify(self):
        dsc = Mbd.Dsc.new_from_file(self.make_source())
        self.assertEqual(dsc.get_source(), "pyhello")
        self.assertEqual(dsc.get_version(), "1.0")
        files = dsc.get_files()
        self.assertEqual([f.get_name() for f in files], ["pyhello_1.0.tar.xz"])
        self.assertEqual(len(files[0].get_sha256()), 64)
        self.assertTrue(dsc.verify_files(self.tmp, None))

        with open(os.path.join(self.tmp, "pyhello_1.0.tar.xz"), "ab") as f:
            f.write(b"tampered")
        with self.assertRaises(GLib.Error) as caught:
            dsc.verify_files(self.tmp, None)
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.SIZE_MISMATCH))
        self.assertIn("pyhello_1.0.tar.xz", caught.exception.message)

    def test_unsafe_name(self):
        with self.assertRaises(GLib.Error) as caught:
            Mbd.filename_is_safe("../etc/passwd")
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.UNSAFE_FILENAME))


class DebTest(TmpTestCase):
    def test_read_deb(self):
        root = os.path.join(self.tmp, "pkg")
        os.makedirs(os.path.join(root, "DEBIAN"))
        os.makedirs(os.path.join(root, "usr", "bin"))
        with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
            f.write("Package: pydeb\nVersion: 2:1.0-1\nArchitecture: all\n"
                    "Maintainer: T <t@example.org>\nDescription: x\n y\n")
        with open(os.path.join(root, "usr", "bin", "pydeb"), "w") as f:
            f.write("#!/bin/sh\n")
        deb = os.path.join(self.tmp, "pydeb.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "-b", root, deb], check=True,
                       capture_output=True)
        parsed = Mbd.Deb.new_from_file(deb, None)
        self.assertEqual(parsed.get_package(), "pydeb")
        self.assertEqual(parsed.get_version(), "2:1.0-1")
        self.assertEqual(parsed.get_data_compression(), "xz")
        self.assertIn("/usr/bin/pydeb", parsed.get_files())


class GnupgTest(TmpTestCase):
    def test_sign_and_verify_elsewhere(self):
        signer = Mbd.Gnupg.new(os.path.join(self.tmp, "signer"))
        fpr = signer.generate_key("Py Signer <py@example.org>", "ed25519", None)
        signed = signer.sign_clear(GLib.Bytes.new(b"Origin: mbd\n"), None)
        self.assertIn(b"BEGIN PGP SIGNED MESSAGE", signed.get_data())

        verifier = Mbd.Gnupg.new(os.path.join(self.tmp, "verifier"))
        with self.assertRaises(GLib.Error) as caught:
            verifier.verify_clear(signed, None)
        self.assertTrue(caught.exception.matches(Mbd.error_quark(), Mbd.Error.UNKNOWN_SIGNER))

        public = signer.export_public_key(fpr, None)
        self.assertEqual(verifier.import_keys(GLib.Bytes.new(public.encode()), None), [fpr])
        plain, signer_fpr = verifier.verify_clear(signed, None)
        self.assertEqual(plain.get_data(), b"Origin: mbd\n")
        self.assertEqual(signer_fpr, fpr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
