# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server: creates the instance on first start, answers status like mini-buildd, RFC 7807
errors for anything unknown, clean exit on SIGTERM."""

import http.client
import os
import subprocess
import time
import unittest

from mbdtestlib import MBD_SERVER, HomeTestCase, Server, run_mbd

PROBLEM_KEYS = ["detail", "instance", "status", "title", "type"]


class ServerTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "srvtest", "--key-type", "ed25519", home=self.home)
        self.server = Server(self.home)

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.proc.kill()
            self.server.proc.communicate()
        super().tearDown()

    def test_status(self):
        status, ctype, data = self.server.get_json("/mini_buildd/api/status/?output=json")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(data["identity"], "srvtest")
        self.assertEqual(data["url"], self.server.base)
        self.assertEqual(data["incoming_url"], self.server.base + "/upload/")
        self.assertEqual(data["load"], 0.0)
        self.assertEqual(data["chroots"], [])
        self.assertEqual(data["remotes"], [])
        version = run_mbd("--version").stdout.split()[1]
        self.assertEqual(data["version"], version)

        # without the trailing slash and without output= too
        status, _, again = self.server.get_json("/mini_buildd/api/status")
        self.assertEqual(status, 200)
        self.assertEqual(again["identity"], "srvtest")

    def test_status_reflects_database(self):
        import sqlite3
        db = sqlite3.connect(os.path.join(self.home, "mbd.sqlite"))
        db.execute("INSERT INTO chroots (codename, architecture, status) VALUES "
                   "('bookworm', 'amd64', 2)")
        db.commit()
        db.close()
        _, _, data = self.server.get_json("/mini_buildd/api/status/?output=json")
        self.assertEqual(data["chroots"], ["bookworm:amd64"])

    def assert_problem(self, path, code, detail_part, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        self.assertEqual(response.status, code)
        self.assertEqual(response.getheader("Content-Type"), "application/problem+json")
        import json
        problem = json.loads(body)
        self.assertEqual(sorted(problem), PROBLEM_KEYS)
        self.assertEqual(problem["status"], code)
        self.assertEqual(problem["type"], "about:blank")
        self.assertIn(detail_part, problem["detail"])
        return problem

    def test_problems(self):
        p = self.assert_problem("/mini_buildd/api/nosuchcall/?output=json", 404,
                                "Unknown API call 'nosuchcall'")
        self.assertEqual(p["title"], "Not Found")
        self.assert_problem("/nothing/here", 404, "/nothing/here")
        self.assert_problem("/mini_buildd/api/status/?output=xml", 400, "argument 'output'")
        self.assert_problem("/mini_buildd/api/status/", 405, "DELETE", method="DELETE")

    def test_second_server_refused(self):
        proc = subprocess.run([MBD_SERVER, "--home", self.home, "--port", "0"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"runs in another process (pid {self.server.proc.pid})", proc.stderr)
        human = run_mbd("status", home=self.home).stdout
        self.assertIn(f"running (pid {self.server.proc.pid})", human)

    def test_sigterm(self):
        code, err = self.server.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("stopping", err)
        human = run_mbd("status", home=self.home).stdout
        self.assertIn("stopped (no mbd-server runs this instance)", human)


class ServerFirstStartTest(HomeTestCase):
    def test_creates_instance(self):
        server = Server(self.home)
        try:
            status, _, data = server.get_json("/mini_buildd/api/status/?output=json")
            self.assertEqual(status, 200)
            self.assertTrue(data["identity"])
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0)
        self.assertIn("creating a new instance", err)
        self.assertTrue(os.path.exists(os.path.join(self.home, "mbd.sqlite")))

    def test_first_start_publishes_test_repository(self):
        # the default instance's repository is an apt source as soon as the server runs
        server = Server(self.home)
        try:
            _, _, data = server.get_json("/mini_buildd/api/status/?output=json")
            codename = subprocess.run(["sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME"],
                                      capture_output=True, text=True).stdout.strip() or "sid"
            path = f"/repositories/test/dists/{codename}-test-unstable/InRelease"
            deadline = time.monotonic() + 60
            status, _, body = server.get(path)
            while status == 404 and time.monotonic() < deadline:
                time.sleep(0.2)
                status, _, body = server.get(path)
            self.assertEqual(status, 200, path)
            text = body.decode()
            self.assertTrue(text.startswith("-----BEGIN PGP SIGNED MESSAGE-----"), text[:80])
            # mini-buildd's Release files name the distribution string as suite and codename
            self.assertIn(f"Suite: {codename}-test-unstable\n", text)
            self.assertIn(f"Codename: {codename}-test-unstable\n", text)
            status, _, _ = server.get(f"/repositories/test/dists/{codename}-test-stable-rollback0/"
                                      "Release")
            self.assertEqual(status, 200)
        finally:
            server.stop()

    def test_bad_options(self):
        for args in (["--port", "70000"], ["--address", "not-an-ip"], ["extra"]):
            proc = subprocess.run([MBD_SERVER, "--home", self.home, *args], capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn("error:", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
