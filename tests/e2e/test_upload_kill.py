# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nothing lost (issue 5, acceptance 3) with real builds (suite e2e; root, sbuild, the cached
bookworm chroot): `mbd upload` killed with SIGKILL at each stage (upload recorded, PACKAGING,
BUILDING, BUILT, installed but not recorded yet) through $MBD_DEBUG_KILL_AT; an mbd-server start
then finishes the package: exactly one INSTALLED event, one PACKAGING and one BUILT event, one
build, and the version in the distribution."""

import json
import os
import subprocess
import unittest

from test_upload import Server, UploadTestCase, make_upload, package_events, run_mbd
from mbdtestlib import MBD  # noqa: E402


class TestNothingLost(UploadTestCase):
    def test_kill_at_each_stage(self):
        stages = ["submitted", "PACKAGING", "BUILDING", "BUILT", "included"]
        for n, stage in enumerate(stages, start=1):
            with self.subTest(stage=stage):
                version = self.version(n)
                changes = make_upload(self.work, "mbd-up-kill", version, arch="all")
                env = dict(os.environ, MBD_DEBUG_KILL_AT=stage)
                proc = subprocess.run([MBD, "--home", self.home, "upload", changes],
                                      capture_output=True, text=True, env=env, timeout=600)
                self.assertEqual(proc.returncode, -9, f"{stage}: {proc.stdout}{proc.stderr}")
                server = Server(self.home)
                try:
                    final = self.wait_final(version)
                finally:
                    code, err = server.stop()
                self.assertEqual(code, 0, err)
                self.assertEqual([e["type"] for e in final], ["INSTALLED"], stage)
                self.assertEqual(self.ls_versions("mbd-up-kill"), version, stage)
                builds = json.loads(run_mbd("build", "ls", "--json", home=self.home).stdout)
                mine = [b for b in builds if b["version"] == version]
                self.assertEqual(len(mine), 1, f"{stage}: {mine}")
                # every stage announced once
                types = [e["type"] for e in package_events(self.home, version)]
                for kind in ("PACKAGING", "BUILT", "INSTALLED"):
                    self.assertEqual(types.count(kind), 1, f"{stage}: {types}")



if __name__ == "__main__":
    unittest.main(verbosity=2)
