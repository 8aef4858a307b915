# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd source: add/check/ls/rm through the CLI, with a mirror on a closed loopback port (no network)."""

import json
import socket
import time
import unittest

from mbdtestlib import HomeTestCase, run_mbd


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SourceCliTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "srctest", "--key-type", "ed25519", home=self.home)

    def test_add_check_ls_rm(self):
        mirror = f"http://127.0.0.1:{closed_port()}/debian"
        proc = run_mbd("source", "add", "bookworm", "--mirror", mirror, home=self.home)
        self.assertIn("Added source bookworm (Debian)", proc.stdout)
        # Debian's security archive is beside the given mirror
        self.assertIn(f"bookworm-security (Debian) from {mirror}-security", proc.stdout)
        self.assertIn("bookworm-backports (Debian Backports)", proc.stdout)

        again = run_mbd("source", "add", "bookworm", "--no-extras", "--mirror", mirror,
                        home=self.home, check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("exists already", again.stderr)

        start = time.monotonic()
        check = run_mbd("source", "check", "bookworm", home=self.home, check=False)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(check.returncode, 1)
        self.assertIn(f"{mirror}/dists/bookworm/InRelease", check.stderr)
        self.assertIn("unreachable", check.stderr.lower())

        data = {s["codename"]: s for s in json.loads(run_mbd("source", "ls", "--json",
                                                             home=self.home).stdout)}
        self.assertEqual(sorted(data), ["bookworm", "bookworm-backports", "bookworm-security",
                                        "bookworm-updates"])
        self.assertEqual(data["bookworm"]["state"], "prepared")
        self.assertEqual(data["bookworm"]["codeversion"], "12")
        self.assertEqual(data["bookworm"]["mirrors"], [mirror])
        self.assertEqual(data["bookworm"]["extras"], {"bookworm-security": 500,
                                                      "bookworm-updates": 500,
                                                      "bookworm-backports": 1})
        self.assertIn(f"{mirror}/dists/bookworm/InRelease", data["bookworm"]["check_message"])

        run_mbd("source", "rm", "bookworm", home=self.home)
        gone = run_mbd("source", "rm", "bookworm", home=self.home, check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("no source “bookworm”", gone.stderr)

    def test_usage(self):
        for args in (["source"], ["source", "frobnicate"], ["source", "add"],
                     ["source", "check"], ["source", "check", "a", "--all"]):
            proc = run_mbd(*args, home=self.home, check=False)
            self.assertEqual(proc.returncode, 2, args)
        unknown = run_mbd("source", "add", "hamm", home=self.home, check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("hamm", unknown.stderr)
        self.assertIn("bookworm", unknown.stderr)


if __name__ == "__main__":
    unittest.main()
