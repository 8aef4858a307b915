# SPDX-License-Identifier: LGPL-2.1-or-later
"""retry and cancel through mbd-server's API calls with real builds (suite e2e; issue 5,
acceptance 5), the way a developer meets them: an upload fails because a build dependency is
not there yet; the dependency is uploaded and installed; `retry` of the failed package then
builds it against the repository and installs it. A second version of the dependency whose
build hangs is cancelled while it builds and ends FAILED. A real apt sees the retried package and
the first version of the dependency, not the cancelled one."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, HERE)
from mbdtestlib import Server  # noqa: E402
from test_upload import UploadTestCase, make_upload, package_events  # noqa: E402


class TestRetryCancel(UploadTestCase):
    def wait_event(self, source, version, kind, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in package_events(self.home, version, source) if e["type"] == kind]
            if found:
                return found
            time.sleep(1)
        raise AssertionError(f"no {kind} event of {source} {version} in {timeout} s: "
                             f"{package_events(self.home, version, source)}")

    def test_retry_after_dependency_then_cancel(self):
        server = Server(self.home)
        try:
            server.login()  # retry and cancel are staff calls
            v1 = self.version(1)
            app = os.path.join(self.work, "app")
            lib = os.path.join(self.work, "lib")
            os.makedirs(app)
            os.makedirs(lib)
            self.dput(server, make_upload(app, "mbd-rt-app", v1, arch="all",
                                          build_depends="mbd-rt-lib"), "-u")
            failed = self.wait_final(v1)
            self.assertEqual([e["type"] for e in failed], ["FAILED"], failed)
            self.assertEqual(failed[0]["source"], "mbd-rt-app")
            app_key = failed[0]["extra"]["timecode"]

            self.dput(server, make_upload(lib, "mbd-rt-lib", v1, arch="all"), "-u")
            self.assertEqual([e["type"] for e in self.wait_event("mbd-rt-lib", v1, "INSTALLED")],
                             ["INSTALLED"])

            status, answer = self.api(server, "retry", bkey=app_key)
            self.assertEqual(status, 200, answer)
            retried = answer["bkey"]
            self.assertNotEqual(retried, app_key)
            installed = self.wait_event("mbd-rt-app", v1, "INSTALLED")
            self.assertEqual([e["extra"]["timecode"] for e in installed], [retried])
            # the failed package stays failed: retry is a new upload, not a rewrite
            self.assertEqual(self.api(server, "retry", bkey=retried)[0], 400)

            # a build that hangs is cancelled while it runs
            v2 = self.version(2)
            lib2 = os.path.join(self.work, "lib2")
            os.makedirs(lib2)
            self.dput(server, make_upload(lib2, "mbd-rt-lib", v2, arch="all",
                                          build_command="sleep 900"), "-u")
            building = self.wait_event("mbd-rt-lib", v2, "BUILDING")
            key2 = building[0]["extra"]["timecode"]
            time.sleep(5)  # well into the build
            start = time.monotonic()
            status, answer = self.api(server, "cancel", bkey=key2)
            self.assertEqual(status, 200, answer)
            final = self.wait_final(v2, timeout=120)
            print(f"cancel to FAILED in {time.monotonic() - start:.1f} s")
            self.assertEqual([(e["source"], e["type"]) for e in final],
                             [("mbd-rt-lib", "FAILED")], final)
            self.assertIn("cancel", final[0]["extra"]["error"]["detail"].lower(), final)
            self.assertEqual(self.api(server, "cancel", bkey=key2)[0], 400)

            root = self.apt_install(server, "mbd-rt-app", v1)
            root.install("mbd-rt-lib")
            self.assertEqual(root.installed_version("mbd-rt-lib"), v1)
            self.assertNotIn(v2, root.policy("mbd-rt-lib")["versions"])
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
