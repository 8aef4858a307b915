# SPDX-License-Identifier: LGPL-2.1-or-later
"""The keyring package API through GObject-Introspection: Instance.dput_conf in both forms and
Packager.build_keyring_packages (its error without a URL, its out list of package keys)."""

import json
import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402


class TestKeyringBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "pyk"

    def setUp(self):
        super().setUp()


    def test_dput_conf(self):
        text = self.instance.dput_conf("http://127.0.0.1:1234", False)
        self.assertTrue(text.startswith("[mini-buildd-pyk]\nmethod   = http\n"
                                        "fqdn     = 127.0.0.1:1234\n"), text)
        profile = json.loads(self.instance.dput_conf("https://example.org", True))
        self.assertEqual(profile, {"method": "https", "fqdn": "example.org", "login": "anonymous",
                                   "incoming": Mbd.UPLOAD_PATH})

    def test_build_keyring_packages(self):
        packager = self.instance.get_packager()
        with self.assertRaises(GLib.Error) as ctx:
            packager.build_keyring_packages("test", None, None, True)
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))
        ok, keys = packager.build_keyring_packages("test", None, "http://127.0.0.1:1", True)
        self.assertTrue(ok)
        self.assertEqual(len(keys), 1)
        ok, state = packager.lookup_state(keys[0])
        self.assertEqual(state, Mbd.PackageState.CHECKING)


if __name__ == "__main__":
    unittest.main(verbosity=2)
