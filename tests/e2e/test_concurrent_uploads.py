# SPDX-License-Identifier: LGPL-2.1-or-later
"""Twenty uploads sent at once (issue 5, acceptance 4), with real builds (suite e2e; root,
sbuild, the cached chroot of chrootcache.py): twenty dput processes upload to one mbd-server at
the same time, ten good source packages and ten that must be refused, each for its own reason.
Every upload ends exactly once and as it should: the good ones INSTALLED (and a real apt
installs all ten from the server), the others REJECTED with their reason; none is lost, nothing
is left in incoming/."""

import concurrent.futures
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, HERE)
from mbdtestlib import Server  # noqa: E402
from test_upload import CODENAME, UploadTestCase, events, make_upload  # noqa: E402

GOOD = 10
FINAL = ("INSTALLED", "FAILED", "REJECTED")


class TestConcurrentUploads(UploadTestCase):
    def test_twenty_at_once(self):
        version = self.version(1)
        # (source, version, distribution, option line, expected type, part of the reason)
        cases = [(f"mbd-cc-{i:02}", version, None, "", "INSTALLED", None)
                 for i in range(GOOD)]
        for i in range(2):
            cases += [
                (f"mbd-cc-nodist-{i}", version, f"{CODENAME}-nosuch-unstable", "", "REJECTED",
                 "nosuch"),
                (f"mbd-cc-layout-{i}", "1.0+1", None, "", "REJECTED", "1.0+1"),
                (f"mbd-cc-stable-{i}", version, f"{CODENAME}-test-stable", "", "REJECTED",
                 "is not uploadable"),
                (f"mbd-cc-option-{i}", version, None, "  * MINI_BUILDD_OPTION: no-such=1\n",
                 "REJECTED", "no-such"),
                (f"mbd-cc-rollback-{i}", version, f"{CODENAME}-test-unstable-rollback0", "",
                 "REJECTED", "rollback"),
            ]
        self.assertEqual(len(cases), 20)
        uploads = []
        for source, v, dist, line, _, _ in cases:
            workdir = os.path.join(self.work, source)
            os.makedirs(workdir)
            kwargs = {"distribution": dist} if dist else {}
            uploads.append(make_upload(workdir, source, v, arch="all", option_lines=line,
                                       **kwargs))

        server = Server(self.home)
        try:
            start = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
                list(pool.map(lambda changes: self.dput(server, changes, "-u"), uploads))
            print(f"20 dputs in {time.monotonic() - start:.1f} s")

            deadline = time.monotonic() + 1200
            while True:
                finals = [e for e in events(self.home) if e["type"] in FINAL]
                if len(finals) >= len(cases) or time.monotonic() > deadline:
                    break
                time.sleep(2)
            print(f"all 20 ended {time.monotonic() - start:.1f} s after the first dput")
            for source, v, _, _, expected, reason in cases:
                mine = [e for e in finals if e["source"] == source]
                self.assertEqual([e["type"] for e in mine], [expected], (source, mine))
                self.assertEqual(mine[0]["version"], v)
                if reason is not None:
                    self.assertIn(reason, mine[0]["extra"]["error"]["detail"], mine)
            self.assertEqual(len(finals), 20, finals)
            self.assertEqual(os.listdir(os.path.join(self.home, "incoming")), [])

            root = self.apt_root(server)
            good = [c[0] for c in cases if c[4] == "INSTALLED"]
            root.install(*good)
            for source in good:
                self.assertEqual(root.installed_version(source), version)
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
