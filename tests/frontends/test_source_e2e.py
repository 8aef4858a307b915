# SPDX-License-Identifier: LGPL-2.1-or-later
"""e2e: mbd source add/check bookworm against the mirror of this machine's apt sources."""

import json
import time
import unittest

from mbdtestlib import HomeTestCase, run_mbd


class SourceE2eTest(HomeTestCase):
    def test_bookworm(self):
        run_mbd("init", "--identity", "srce2e", "--key-type", "ed25519", home=self.home)
        run_mbd("source", "add", "bookworm", home=self.home)
        start = time.monotonic()
        proc = run_mbd("source", "check", "bookworm", home=self.home)
        elapsed = time.monotonic() - start
        self.assertIn("bookworm: active, codeversion 12", proc.stdout)
        self.assertLess(elapsed, 30)
        data = {s["codename"]: s for s in json.loads(run_mbd("source", "ls", "--json",
                                                             home=self.home).stdout)}
        bookworm = data["bookworm"]
        self.assertEqual(bookworm["state"], "active")
        self.assertEqual(bookworm["origin"], "Debian")
        self.assertIn("amd64", bookworm["architectures"])
        self.assertNotIn("all", bookworm["architectures"])
        self.assertIn("main", bookworm["components"])
        print(f"bookworm check took {elapsed:.2f} s")


if __name__ == "__main__":
    unittest.main()
