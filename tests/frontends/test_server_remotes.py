# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remotes between two real mbd-server processes on loopback: each adds the other (its key
through pub_key), `mbd remote check` does the GnuPG handshake both ways and activates, the status
lists the active remote; a handshake signed by an unknown key, a forged one and an unsigned one
are refused; wake runs a remote's wake command (which starts the stopped second server) and
answers its status. debmirror makes a partial mirror of a repository from the server's own HTTP
delivery, whose Release gpgv accepts with the instance key; destinations with path tricks are
refused."""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import repotestlib
from mbdtestlib import MBD_SERVER, HomeTestCase, Server, run_mbd


def gpg(home, *args, input=None):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback",
                           "--passphrase", "", *args], input=input, capture_output=True,
                          timeout=60)


class RemotesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.homes = []
        cls.servers = {}
        for name in ("one", "two"):
            tmp = HomeTestCase()
            tmp.setUp()
            cls.homes.append(tmp)
            run_mbd("init", "--identity", name, "--key-type", "ed25519", home=tmp.home)
            cls.servers[name] = Server(tmp.home)
        cls.one, cls.two = cls.servers["one"], cls.servers["two"]

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            if server.proc.poll() is None:
                server.stop()
        for tmp in cls.homes:
            tmp.tearDown()

    def call(self, server, call, **args):
        query = urllib.parse.urlencode(args)
        return server.get_json(f"/mini_buildd/api/{call}/?{query}")

    def connect(self):
        """Both add each other; both check (handshake both ways) and activate."""
        for a, b in ((self.one, self.two), (self.two, self.one)):
            run_mbd("remote", "add", b.base, home=a.home)
        for a, b in ((self.one, self.two), (self.two, self.one)):
            proc = run_mbd("remote", "check", b.base, home=a.home)
            self.assertIn("activated", proc.stdout)

    def test_1_add_check_handshake_both_ways(self):
        # an added remote that is not prepared cannot be checked
        proc = run_mbd("remote", "check", "http://127.0.0.1:9/", home=self.one.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("No remote http://127.0.0.1:9", proc.stderr)
        # the remote does not know us yet: the handshake is refused and the check fails
        run_mbd("remote", "add", self.two.base, home=self.one.home)
        proc = run_mbd("remote", "check", self.two.base, home=self.one.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("handshake", proc.stderr)
        self.assertIn("no prepared or active remote", proc.stderr)
        listed = json.loads(run_mbd("remote", "ls", "--json", home=self.one.home).stdout)
        self.assertEqual(listed[0]["state"], "prepared")
        self.assertIn("handshake", listed[0]["check_message"])
        run_mbd("remote", "rm", self.two.base, home=self.one.home)

        self.connect()
        for a, b in ((self.one, self.two), (self.two, self.one)):
            listed = json.loads(run_mbd("remote", "ls", "--json", home=a.home).stdout)
            self.assertEqual([(r["url"], r["state"], r["check_message"]) for r in listed],
                             [(b.base, "active", None)])
            status, _, body = self.call(a, "status")
            self.assertEqual(status, 200)
            self.assertEqual(body["remotes"], [b.base])
            # the fingerprint stored is the one of the remote's pub_key
            _, _, key = self.call(b, "pub_key")
            with tempfile.TemporaryDirectory(dir="/tmp") as gnupg:
                gpg(gnupg, "--import", input=key.encode())
                listing = gpg(gnupg, "--with-colons", "--list-keys").stdout.decode()
                fpr = [line.split(":")[9] for line in listing.splitlines()
                       if line.startswith("fpr:")][0]
                subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "gpg-agent"])
            self.assertEqual(listed[0]["fingerprint"], fpr)
        # adding twice is refused
        proc = run_mbd("remote", "add", self.two.base + "/", home=self.one.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("exists already", proc.stderr)

    def test_2_handshake_refusals(self):
        # signed by a key no remote has
        with tempfile.TemporaryDirectory(dir="/tmp") as gnupg:
            gpg(gnupg, "--quick-gen-key", "stranger <s@example.org>", "ed25519", "sign", "never")
            signed = gpg(gnupg, "--clearsign", input=b"Hand Shake").stdout.decode()
            subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "gpg-agent"])
        status, ctype, body = self.call(self.one, "handshake", signed_message=signed)
        self.assertEqual(status, 400)
        self.assertEqual(ctype, "application/problem+json")
        self.assertIn("handshake", body["detail"])
        # unsigned
        status, _, body = self.call(self.one, "handshake", signed_message="Hand Shake")
        self.assertEqual(status, 400)
        self.assertIn("not openpgp signed", body["detail"].lower())
        # missing argument
        status, _, body = self.call(self.one, "handshake")
        self.assertEqual(status, 400)
        self.assertIn("signed_message", body["detail"])

    def test_3_wake(self):
        admin = self.one
        admin.login()
        # unknown remote
        status, _, body = self.call(admin, "wake", remote="http://127.0.0.1:9", confirm="wake")
        self.assertEqual(status, 404)
        # an awake remote answers its status
        status, _, body = self.call(admin, "wake", remote=self.two.base, confirm="wake",
                                    sleep="0", attempts="1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["identity"], "two")

        # two gets a wake command that starts it again on the same port, then stops
        port = self.two.port
        tmp = os.path.dirname(self.two.home)
        pid_file = os.path.join(tmp, "woken.pid")
        script = (f"exec {MBD_SERVER} --home {self.two.home} --address 127.0.0.1 --port {port} "
                  f"> {tmp}/woken.log 2>&1 & echo $! > {pid_file}")
        run_mbd("remote", "prepare", self.two.base, "--wake-command", f"sh -c '{script}'",
                home=self.one.home)
        self.assertFalse(os.path.exists(pid_file))  # it answered: not woken
        code, err = self.two.stop()
        self.assertEqual(code, 0, err)
        status, _, body = self.call(admin, "wake", remote=self.two.base, confirm="wake",
                                    sleep="1", attempts="20")
        try:
            self.assertEqual(status, 200, body)
            self.assertEqual(body["identity"], "two")
            self.assertEqual(body["url"], self.two.base)
        finally:
            with open(pid_file) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGTERM)
            for _ in range(300):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        # nobody there and no way to wake it: 5xx naming the attempts
        run_mbd("remote", "prepare", self.two.base, "--wake-command", "", home=self.one.home,
                check=False)
        status, _, body = self.call(admin, "wake", remote=self.two.base, confirm="wake",
                                    sleep="0", attempts="2")
        self.assertGreaterEqual(status, 500)
        self.assertIn("2 attempts", body["detail"])


class DebmirrorTest(repotestlib.RepoTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.unstable = f"{cls.codename}-{repotestlib.REPO_ID}-unstable"
        cls.version = repotestlib.pkgfixtures.layout_version("1.0", repotestlib.REPO_ID)
        changes, _, _ = cls.factory.package_set("hello-mirror", cls.version, cls.unstable)
        run_mbd("include", cls.unstable, changes, home=cls.home)
        cls.server = Server(cls.home)
        cls.server.login()

    @classmethod
    def tearDownClass(cls):
        code, err = cls.server.stop()
        super().tearDownClass()
        assert code == 0, err

    def debmirror(self, **args):
        query = urllib.parse.urlencode({"confirm": "debmirror", **args})
        return self.server.get_json(f"/mini_buildd/api/debmirror/?{query}")

    def test_mirror(self):
        status, _, body = self.debmirror(codenames=self.codename, suites="unstable")
        self.assertEqual(status, 200, body)
        dest = os.path.join(self.home, "debmirror", repotestlib.REPO_ID)
        result = body[repotestlib.REPO_ID]
        self.assertEqual(result["destination"], dest)
        self.assertEqual(result["distributions"], [self.unstable])
        self.assertEqual(result["architectures"], [self.arch])
        dists = os.path.join(dest, "dists", self.unstable)
        # the Release signature verifies with the instance key alone
        proc = subprocess.run(["gpgv", "--keyring", self.key, os.path.join(dists, "Release.gpg"),
                               os.path.join(dists, "Release")], capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # the package's files are in the mirror's pool, the same bytes as in the repository
        pool = [os.path.relpath(os.path.join(d, f), dest)
                for d, _, files in os.walk(os.path.join(dest, "pool")) for f in files]
        self.assertTrue(any(p.endswith(".deb") and "hello-mirror" in p for p in pool), pool)
        self.assertTrue(any(p.endswith(".dsc") for p in pool), pool)
        for rel in pool:
            with open(os.path.join(dest, rel), "rb") as a, open(
                    os.path.join(self.root, rel), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)
        # only the distribution asked for
        self.assertEqual(os.listdir(os.path.join(dest, "dists")), [self.unstable])

    def test_refusals(self):
        for destination in ("relative/{}", "/tmp/../etc/{}", "/tmp/./x", "/",
                            os.path.join(self.home, "repositories", "{}")):
            status, _, body = self.debmirror(destination=destination)
            self.assertEqual(status, 400, destination)
            self.assertIn("destination", body["detail"])
        status, _, body = self.debmirror(repositories="nosuchrepo")
        self.assertEqual(status, 400)
        self.assertIn("nosuchrepo", body["detail"])
        status, _, body = self.debmirror(architectures="no-such-arch")
        self.assertEqual(status, 400)
        self.assertIn("no repository distribution matches", body["detail"])
        # confirm is needed, and an administrator
        status, _, body = self.server.get_json("/mini_buildd/api/debmirror/")
        self.assertEqual(status, 400)
        self.assertIn("confirm", body["detail"])
        try:
            urllib.request.urlopen(
                self.server.base + "/mini_buildd/api/debmirror/?confirm=debmirror", timeout=30)
            self.fail("anonymous debmirror was not refused")
        except urllib.error.HTTPError as error:
            self.assertEqual(error.code, 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
