# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nothing lost (issue 5, acceptance 3) with real builds (suite e2e; root, sbuild, the cached
bookworm chroot): the process that owns the packager killed with SIGKILL at each stage (upload
recorded, PACKAGING, BUILDING, BUILT, installed but not recorded yet) through
$MBD_DEBUG_KILL_AT, first `mbd upload` at each, then mbd-server itself receiving the upload over
HTTP as dput sends it (at the stages where its path differs); an mbd-server start then finishes
the package: exactly one INSTALLED event, one PACKAGING, one BUILDING and one BUILT event, one
build, and the version in the distribution."""

import http.client
import json
import os
import subprocess
import unittest
import urllib.request

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
                self.assert_finished_once(stage, "mbd-up-kill", version)

    def test_kill_server_at_each_stage(self):
        # The packager's recovery is the same code in both processes, and the test above kills
        # it at every stage. Here: the upload just received over HTTP (the server's own path),
        # a build running when the server dies, and the package installed but not recorded.
        stages = ["submitted", "BUILDING", "included"]
        for n, stage in enumerate(stages, start=1):
            with self.subTest(stage=stage):
                version = self.version(n)
                changes = make_upload(self.work, "mbd-srv-kill", version, arch="all")
                server = Server(self.home, env=dict(os.environ, MBD_DEBUG_KILL_AT=stage))
                try:
                    put_upload(server.base, changes)
                    server.proc.communicate(timeout=600)
                except BaseException:
                    server.proc.kill()
                    raise
                self.assertEqual(server.proc.returncode, -9, f"{stage}: the server lived on")
                server = Server(self.home)
                try:
                    final = self.wait_final(version)
                finally:
                    code, err = server.stop()
                self.assertEqual(code, 0, err)
                self.assertEqual([e["type"] for e in final], ["INSTALLED"], stage)
                self.assert_finished_once(stage, "mbd-srv-kill", version)

    def assert_finished_once(self, stage, source, version):
        self.assertEqual(self.ls_versions(source), version, stage)
        builds = json.loads(run_mbd("build", "ls", "--json", home=self.home).stdout)
        mine = [b for b in builds if b["source"] == source and b["version"] == version]
        self.assertEqual(len(mine), 1, f"{stage}: {mine}")
        # every stage announced once
        types = [e["type"] for e in package_events(self.home, version)]
        for kind in ("PACKAGING", "BUILDING", "BUILT", "INSTALLED"):
            self.assertEqual(types.count(kind), 1, f"{stage}: {types}")


def put_upload(base, changes):
    """PUTs the files a .changes lists, then the .changes, to /upload/ as dput's http method."""
    directory = os.path.dirname(changes)
    names = []
    with open(changes) as f:
        in_files = False
        for line in f:
            if line.startswith("Files:"):
                in_files = True
            elif in_files and line.startswith(" "):
                names.append(line.split()[-1])
            else:
                in_files = False
    last = os.path.basename(changes)
    for name in names + [last]:
        with open(os.path.join(directory, name), "rb") as f:
            request = urllib.request.Request(f"{base}/upload/{name}", data=f.read(), method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status in (200, 201), (name, response.status)
        except (ConnectionError, http.client.RemoteDisconnected):
            # the .changes completes the upload: the server may be killed before it answers
            if name != last:
                raise



if __name__ == "__main__":
    unittest.main(verbosity=2)
