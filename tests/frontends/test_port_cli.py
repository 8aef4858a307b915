# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd port, mbd port-ext and mbd-server's port and port_ext API calls without a build chroot:
a port of a source included into bookworm-test-unstable is recorded as a package with the
layout's version (a rebuild into the same distribution), the refusals name what is wrong (exit
1, or an RFC 7807 answer), and the server's calls want confirm= and answer mini-buildd's list of
{dsc_url, source, distribution, version}."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from mbdtestlib import HomeTestCase, Server, run_mbd  # noqa: E402
from test_upload_cli import source_upload  # noqa: E402

DIST = "bookworm-test-unstable"


class TestPortCli(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "test", "--key-type", "ed25519", home=self.home)
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)
        # the default repository test has bookworm (or the host's codename)
        out = run_mbd("repo", "ls", "--json", home=self.home).stdout
        codenames = json.loads(out)["test"]["codenames"]
        if "bookworm" not in codenames:
            self.skipTest(f"the default repository is not on bookworm: {codenames}")
        changes = source_upload(self.work, "mbd-pc", "1.0~test12+1", DIST)
        run_mbd("include", DIST, changes, home=self.home)

    def test_cli(self):
        proc = run_mbd("port", "mbd-pc", DIST, DIST, "-O", "lintian-mode=disabled|auto-ports=x",
                       home=self.home)
        dist, source, version, key = proc.stdout.split()
        self.assertEqual((dist, source), (DIST, "mbd-pc"))
        self.assertRegex(version, r"^1\.0~test12\+1\+rebuilt[0-9]{14}$")
        self.assertIn("no engine runs", proc.stderr)
        changes = [n for n in os.listdir(os.path.join(self.home, "packages", key))
                   if n.endswith(".changes")]
        with open(os.path.join(self.home, "packages", key, changes[0])) as f:
            text = f.read()
        self.assertIn("BEGIN PGP SIGNED MESSAGE", text)
        self.assertIn("MINI_BUILDD_OPTION: lintian-mode=disabled", text)
        self.assertIn("MINI_BUILDD_OPTION: auto-ports=x", text)

        for args, needle in [
                (("port", "nope", DIST, DIST), "source nope is not in"),
                (("port", "mbd-pc", DIST, "bookworm-test-testing"), "not uploadable"),
                (("port", "mbd-pc", DIST, "trixie-test-unstable"), "trixie"),
                (("port", "mbd-pc", DIST), "give a source and the distributions"),
                (("port-ext", "ftp://x/y.dsc", DIST), "ftp://x/y.dsc"),
                (("port-ext", "file:///nonexistent/y.dsc", DIST), "/nonexistent/y.dsc")]:
            proc = run_mbd(*args, home=self.home, check=False)
            self.assertNotEqual(proc.returncode, 0, args)
            self.assertIn(needle, proc.stderr, args)

    def test_server_calls(self):
        server = Server(self.home)
        try:
            server.login()  # port and port_ext are staff calls
            query = urllib.parse.urlencode({"source": "mbd-pc", "from_distribution": DIST,
                                            "to_distributions": DIST, "output": "json"})
            status, ctype, body = server.get_json(f"/mini_buildd/api/port/?{query}")
            self.assertEqual(status, 400)
            self.assertEqual(ctype, "application/problem+json")
            self.assertIn("confirm", body["detail"])

            status, ctype, body = server.get_json(f"/mini_buildd/api/port/?{query}&confirm=port")
            self.assertEqual(status, 200, body)
            self.assertEqual(len(body), 1)
            self.assertEqual(body[0]["source"], "mbd-pc")
            self.assertEqual(body[0]["distribution"], DIST)
            self.assertRegex(body[0]["version"], r"^1\.0~test12\+1\+rebuilt[0-9]{14}$")
            self.assertTrue(body[0]["dsc_url"].endswith("/mbd-pc_1.0~test12+1.dsc"),
                            body[0]["dsc_url"])
            self.assertTrue(body[0]["dsc_url"].startswith(server.base + "/repositories/test/"))

            query = urllib.parse.urlencode({"source": "mbd-pc", "from_distribution": DIST,
                                            "to_distributions": "bookworm-test-testing",
                                            "confirm": "port"})
            status, _, body = server.get_json(f"/mini_buildd/api/port/?{query}")
            self.assertEqual(status, 400)
            self.assertIn("not uploadable", body["detail"])

            query = urllib.parse.urlencode({"dsc_url": server.base + "/nothing/x.dsc",
                                            "distributions": DIST, "confirm": "port_ext"})
            status, _, body = server.get_json(f"/mini_buildd/api/port_ext/?{query}")
            self.assertEqual(status, 404)
            self.assertIn("/nothing/x.dsc", body["detail"])

            status, _, body = server.get_json("/mini_buildd/api/port_ext/?confirm=port_ext")
            self.assertEqual(status, 400)
            self.assertIn("'dsc_url' is missing", body["detail"])
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)

    def test_server_port_does_not_block(self):
        """The port call makes its sources in a worker thread: with a dpkg-source that takes
        2 s a call, status answers at once while a port is being made."""
        fakebin = os.path.join(self.tmp, "slowbin")
        os.makedirs(fakebin)
        with open(os.path.join(fakebin, "dpkg-source"), "w") as f:
            f.write(f"#!/bin/sh\nsleep 2\nexec {shutil.which('dpkg-source')} \"$@\"\n")
        os.chmod(os.path.join(fakebin, "dpkg-source"), 0o755)
        env = dict(os.environ, PATH=fakebin + os.pathsep + os.environ["PATH"])
        server = Server(self.home, env=env)
        try:
            server.login()
            query = urllib.parse.urlencode({"source": "mbd-pc", "from_distribution": DIST,
                                            "to_distributions": DIST, "confirm": "port",
                                            "output": "json"})
            answer = {}

            def port():
                answer["result"] = server.get_json(f"/mini_buildd/api/port/?{query}")
                answer["at"] = time.monotonic()

            thread = threading.Thread(target=port)
            started = time.monotonic()
            thread.start()
            time.sleep(0.5)
            status, _, _ = server.get_json("/mini_buildd/api/status/?output=json")
            status_at = time.monotonic()
            self.assertEqual(status, 200)
            self.assertNotIn("result", answer, "the port was answered before status")
            self.assertLess(status_at - started, 1.5)
            thread.join(60)
            self.assertEqual(answer["result"][0], 200, answer["result"][2])
            # dpkg-source ran twice (unpack and build): the port took 4 s or more
            self.assertGreaterEqual(answer["at"] - started, 4)
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
