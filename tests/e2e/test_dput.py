# SPDX-License-Identifier: LGPL-2.1-or-later
"""From dput to installed (issue 5, acceptance 1) with real builds (suite e2e; root, sbuild, the
cached chroot of chrootcache.py): Debian's own dput, configured from mbd-server's dput_conf
call, uploads an unsigned source package with its http method to bookworm-test-unstable
(repository test allows unauthenticated uploads); the package is accepted (PACKAGING), built,
INSTALLED, and a real apt with signed-by the instance key installs it from the server."""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, HERE)
from mbdtestlib import Server  # noqa: E402
from test_upload import UploadTestCase, make_upload, package_events  # noqa: E402


class TestDput(UploadTestCase):
    def test_dput_http_to_installed(self):
        server = Server(self.home)
        try:
            version = self.version(1)
            changes = make_upload(self.work, "hello-dput", version)
            status, _, conf = server.get("/mini_buildd/api/dput_conf/?output=plain")
            self.assertEqual(status, 200)
            cf = os.path.join(self.tmp, "dput.cf")
            with open(cf, "wb") as f:
                f.write(conf)
            start = time.monotonic()
            proc = subprocess.run(["dput", "-c", cf, "-u", "mini-buildd-e2e", changes],
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

            final = self.wait_final(version)
            print(f"dput to {final[0]['type']} in {time.monotonic() - start:.1f} s")
            events = package_events(self.home, version)
            types = [e["type"] for e in events]
            self.assertEqual([e["type"] for e in final], ["INSTALLED"], events)
            self.assertIn("PACKAGING", types)
            self.assertEqual(os.listdir(os.path.join(self.home, "incoming")), [])
            self.apt_install(server, "hello-dput", version)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
