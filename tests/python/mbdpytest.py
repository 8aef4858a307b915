# SPDX-License-Identifier: LGPL-2.1-or-later
"""The binding tests' common fixture: an instance created in a fresh /tmp home with an ed25519
key, dropped afterwards with its gpg-agent."""

import os
import shutil
import subprocess
import tempfile
import unittest

import gi

gi.require_version("Mbd", "1.0")
from gi.repository import Mbd  # noqa: E402


class InstanceTestCase(unittest.TestCase):
    IDENTITY = "py"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.home = os.path.join(self.tmp, "home")
        self.instance = Mbd.Instance.new(self.home)
        self.instance.set_identity(self.IDENTITY)
        self.instance.set_key_algorithm("ed25519")
        self.instance.open(Mbd.InstanceOpenFlags.CREATE, None)

    def tearDown(self):
        self.instance.stop()
        self.instance = None
        subprocess.run(["gpgconf", "--homedir", os.path.join(self.home, "gnupg"), "--kill",
                        "gpg-agent"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
