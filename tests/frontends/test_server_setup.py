# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server's setup call with update and pca (issue 6): on a fresh instance, one call creates
the sources, the repository with its distributions and a chroot entry, prepares, checks and
activates the sources and the repository, and answers the inspection afterwards; the objects
exist afterwards (status, ls); wrong options give 400 naming the option. The archive is a
closed loopback port, so the source checks fail fast and deterministically (FAILED)."""

import hashlib
import http.client
import json
import socket
import threading
import unittest
import urllib.parse

from mbdtestlib import HomeTestCase, Server, run_mbd

API = "/mini_buildd/api/"


def closed_port():
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instance_id(class_name, identity):
    return hashlib.sha256(f"{class_name}\n{identity}".encode()).hexdigest()


class SetupTest(HomeTestCase):

    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "boot", "--key-type", "ed25519", home=self.home)
        self.server = Server(self.home)
        self.addCleanup(self.server.stop)
        jar = self.server.login()
        self.auth = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in jar)}
        self.archive = f"http://127.0.0.1:{closed_port()}/debian"

    def call(self, name, /, **args):
        query = urllib.parse.urlencode(args)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        try:
            conn.request("GET", f"{API}{name}/?{query}", headers=self.auth)
            response = conn.getresponse()
            return response.status, json.loads(response.read().decode())
        finally:
            conn.close()

    def setup_call(self, code=200, **args):
        status, body = self.call("setup", confirm="setup", **args)
        self.assertEqual(status, code, body)
        return body

    def test_update_and_pca(self):
        args = {"archives": self.archive, "sources": "trixie",
                "distributions_from_sources": "True",
                "repositories_from_distributions": "ours:Default"}
        before = self.setup_call(**args)
        by = {(i["class"], i["identity"]): i for i in before["instances"]}
        self.assertEqual(by[("Source", "trixie")]["status"], "MISSING")
        self.assertEqual(by[("Source", "trixie-security")]["status"], "MISSING")
        self.assertEqual(by[("Repository", "ours")]["status"], "MISSING")
        self.assertEqual(by[("Repository", "test")]["status"], "ACTIVE")  # mbd init made it
        self.assertEqual(by[("Distribution", "trixie")]["status"], "MISSING")
        self.assertEqual(by[("Archive", self.archive)]["status"], "EXISTS")
        self.assertEqual(by[("Repository", "ours")]["id"], instance_id("Repository", "ours"))
        self.assertEqual(before["report"]["severity"], 2)

        after = self.setup_call(update="all", pca="all", **args)
        self.assertEqual(after["setup"]["update"], "all")
        by = {(i["class"], i["identity"]): i for i in after["instances"]}
        self.assertEqual(by[("Repository", "ours")]["status"], "ACTIVE", after)
        self.assertEqual(by[("Repository", "test")]["status"], "ACTIVE", after)
        self.assertEqual(by[("Distribution", "trixie")]["status"], "ACTIVE")
        self.assertEqual(by[("Archive", self.archive)]["status"], "ACTIVE")
        self.assertEqual(by[("Daemon", "boot")]["status"], "ACTIVE")
        # the mirror is a closed port: every source check failed, named in the detail
        for codename in ("trixie", "trixie-security", "trixie-updates", "trixie-backports"):
            self.assertEqual(by[("Source", codename)]["status"], "FAILED")
            self.assertIn("pca", by[("Source", codename)]["detail"])
        self.assertEqual(after["report"]["severity"], 3)
        self.assertTrue(any(m.startswith("Source trixie: FAILED")
                            for m in after["report"]["messages"]), after["report"])

        # the objects exist: the repository with its distribution, the sources with the archive
        status, data = self.call("status", with_repositories="True")
        self.assertEqual(status, 200, data)
        self.assertEqual(data["repositories"]["ours"]["codenames"], ["trixie"])
        self.assertEqual(data["repositories"]["test"]["codenames"], ["bookworm"])
        sources = json.loads(run_mbd("source", "ls", "--json", home=self.home).stdout)
        self.assertIn("trixie-security", json.dumps(sources))
        self.assertIn(f"{self.archive}-security", json.dumps(sources))

    def test_run_does_not_block(self):
        """While a run waits for a mirror, other calls are served and a second setup gets
        503; the run ends when the mirror goes away."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(60)
        archive = f"http://127.0.0.1:{listener.getsockname()[1]}/debian"
        result = {}
        worker = threading.Thread(target=lambda: result.update(
            answer=self.call("setup", confirm="setup", archives=archive, sources="sid",
                             update="all", pca="all")))
        worker.start()
        try:
            conn, _ = listener.accept()  # the source check of sid is under way
            try:
                status, body = self.call("status")
                self.assertEqual(status, 200, body)
                status, body = self.call("setup", confirm="setup")
                self.assertEqual(status, 503, body)
                self.assertIn("maintenance", body["detail"])
            finally:
                conn.close()
        finally:
            listener.close()
            worker.join(120)
        status, body = result["answer"]
        self.assertEqual(status, 200, body)
        by = {(i["class"], i["identity"]): i for i in body["instances"]}
        self.assertEqual(by[("Source", "sid")]["status"], "FAILED")
        self.assertEqual(by[("Daemon", "boot")]["status"], "ACTIVE")  # the engine runs again

    def test_chroot_update(self):
        chroot = "bookworm:amd64"
        before = self.setup_call(chroots=chroot)
        by = {(i["class"], i["identity"]): i for i in before["instances"]}
        self.assertEqual(by[("Chroot", chroot)]["status"], "MISSING")
        # update only: the chroot is configured, not prepared (no mmdebstrap here)
        after = self.setup_call(chroots=chroot, update=instance_id("Chroot", chroot))
        by = {(i["class"], i["identity"]): i for i in after["instances"]}
        self.assertEqual(by[("Chroot", chroot)]["status"], "EXISTS")
        self.assertIn("absent", run_mbd("chroot", "ls", home=self.home).stdout)

    def test_bad_options(self):
        for args, name in [({"sources": "nosuchcodename"}, "sources"),
                           ({"repositories": "test:Default"}, "repositories"),
                           ({"repositories": "test:nolayout:bookworm"}, "repositories"),
                           ({"distributions": "bookworm"}, "distributions"),
                           ({"chroots_backend": "LVM"}, "chroots_backend"),
                           ({"update": "notahash"}, "update"),
                           ({"pca": "0" * 64}, "pca"),
                           ({"nosuchoption": "1"}, "nosuchoption")]:
            with self.subTest(args=args):
                body = self.setup_call(code=400, **args)
                self.assertIn(f"'{name}'", body["detail"])
        # nothing changed, and the engine still runs
        body = self.setup_call()
        self.assertEqual([i["class"] for i in body["instances"]], ["Daemon", "Repository"])
        self.assertEqual(body["report"]["severity"], 0)


class CliSetupTest(HomeTestCase):
    """mbd setup: the same library call without a server."""

    def test_inspect_and_update(self):
        run_mbd("init", "--identity", "cli", "--key-type", "ed25519", home=self.home)
        args = ["setup", "--sources", "trixie", "--distributions", "trixie:native",
                "--repositories-from-distributions", "ours:Debian Developer",
                "--chroots-from-sources"]
        before = run_mbd(*args, home=self.home).stdout
        self.assertIn("MISSING  Repository   ours", before)
        self.assertIn(instance_id("Repository", "ours"), before)
        self.assertTrue(before.endswith("Severity: 2\n"), before)
        proc = run_mbd(*args, "--update", instance_id("Repository", "ours"), home=self.home)
        self.assertIn("update Repository ours", proc.stderr)
        self.assertIn("ACTIVE   Repository   ours", proc.stdout)
        self.assertIn("ACTIVE   Distribution trixie", proc.stdout)
        self.assertIn("MISSING  Source       trixie", proc.stdout)
        self.assertIn("debian-developer", run_mbd("repo", "ls", home=self.home).stdout)
        bad = run_mbd("setup", "--chroots", "trixie", home=self.home, check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("setup option 'chroots'", bad.stderr)


if __name__ == "__main__":
    unittest.main()
