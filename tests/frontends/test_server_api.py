# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server's mini-buildd API calls (issue 6): the read calls (status with_repositories,
pub_key, sources_list, ls, show, snapshot_ls, debdiff) with mini-buildd's argument names and
result shapes (tests/../reference samples), the outputs json/plain/html, 400 naming a bad
argument, the confirmable calls (400 without confirm=<call>, exactly as mini-buildd), the
repository calls (migrate, remove, snapshots), stop/start with 503 for R calls while stopped,
remake_chroots, setup's inspect report and the calls that answer 501."""

import http.client
import json
import os
import re
import shutil
import subprocess
import urllib.parse

import repotestlib
from mbdtestlib import Server

API = "/mini_buildd/api/"
PROBLEM_KEYS = ["detail", "instance", "status", "title", "type"]
LS_KEYS = ["architecture", "component", "rollbacks", "version"]
SHOW_KEYS = sorted(LS_KEYS + ["dsc_path", "changes_paths", "uploadable", "migrates_to",
                              "is_migrated"])


class ApiTest(repotestlib.RepoTestCase):
    """One instance: hello-api 1 in testing (migrated by the CLI) and 2 in unstable, then
    mbd-server on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.v1 = repotestlib.pkgfixtures.layout_version("1.0", repotestlib.REPO_ID, n=1)
        cls.v2 = repotestlib.pkgfixtures.layout_version("1.0", repotestlib.REPO_ID, n=2)
        unstable = f"{cls.codename}-test-unstable"
        for version in (cls.v1, cls.v2):
            changes, _, _ = cls.factory.package_set("hello-api", version, unstable)
            repotestlib.run_mbd("include", unstable, changes, home=cls.home)
            if version == cls.v1:
                repotestlib.run_mbd("migrate", "hello-api", unstable, home=cls.home)
        changes, _, _ = cls.factory.package_set("gone-api", cls.v1, unstable)
        repotestlib.run_mbd("include", unstable, changes, home=cls.home)
        cls.server = Server(cls.home)
        # all calls as the administrator the server made (the levels: test_server_users)
        jar = cls.server.login()
        cls.auth = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in jar)}

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.stop()
        super().tearDownClass()

    # -- helpers ----------------------------------------------------------------------------

    def call(self, name, /, **args):
        """GET the API call; returns (status, content type, body text)."""
        query = urllib.parse.urlencode(args)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        try:
            conn.request("GET", f"{API}{name}/?{query}", headers=self.auth)
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type"), response.read().decode()
        finally:
            conn.close()

    def ok(self, name, /, **args):
        args.setdefault("output", "json")
        status, ctype, body = self.call(name, **args)
        self.assertEqual(status, 200, body)
        if args["output"] == "json":
            self.assertEqual(ctype, "application/json")
            return json.loads(body)
        return ctype, body

    def problem(self, name, code, detail, /, **args):
        status, ctype, body = self.call(name, **args)
        self.assertEqual(status, code, body)
        self.assertEqual(ctype, "application/problem+json")
        problem = json.loads(body)
        self.assertEqual(sorted(problem), PROBLEM_KEYS)
        self.assertEqual(problem["status"], code)
        self.assertIn(detail, problem["detail"])
        return problem

    def dist(self, suite):
        return f"{self.codename}-test-{suite}"

    # -- read calls -------------------------------------------------------------------------

    def test_status_with_repositories(self):
        data = self.ok("status", with_repositories="True")
        self.assertEqual(sorted(data), sorted(["version", "identity", "url", "incoming_url",
                                               "load", "chroots", "remotes", "repositories"]))
        layout = data["repositories"]["test"]["layout"]
        self.assertEqual(data["repositories"]["test"]["codenames"], [self.codename])
        self.assertEqual(list(layout), ["stable", "hotfix", "testing", "unstable", "snapshot",
                                        "experimental"])
        self.assertEqual(layout["unstable"], {"uploadable": True, "experimental": False,
                                              "migrates_to": "testing"})
        self.assertEqual(layout["stable"]["migrates_to"], None)
        self.assertNotIn("repositories", self.ok("status"))
        self.assertNotIn("repositories", self.ok("status", with_repositories="False"))
        self.problem("status", 400, "argument 'with_repositories'", with_repositories="maybe")

    def test_pub_key(self):
        key = self.ok("pub_key")
        self.assertTrue(key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"), key)
        ctype, text = self.ok("pub_key", output="plain")
        self.assertEqual(ctype, "text/plain")
        self.assertEqual(text, key)

    def test_sources_list(self):
        base = f"{self.server.base}/repositories/test"
        ctype, text = self.ok("sources_list", output="plain")
        self.assertEqual(ctype, "text/plain")
        components = "main contrib non-free non-free-firmware"
        suites = ["stable", "hotfix", "testing", "unstable", "snapshot", "experimental"]
        self.assertEqual(text, "".join(f"deb [] {base} {self.dist(s)} {components}\n"
                                       for s in suites))
        # the sample: one JSON string
        self.assertEqual(self.ok("sources_list", codenames=self.codename, suites="unstable"),
                         f"deb [] {base} {self.dist('unstable')} {components}\n")
        self.assertEqual(self.ok("sources_list", codenames="nosuchcodename"), "\n"[:0])
        # types, options, rollbacks (stable has 6, testing 3 in the Default layout)
        lines = self.ok("sources_list", suites="stable,testing", types="deb,deb-src",
                        options="arch=amd64", rollbacks="2").splitlines()
        self.assertEqual(lines[:2], [f"deb [arch=amd64] {base} {self.dist('stable')} {components}",
                                     f"deb-src [arch=amd64] {base} {self.dist('stable')} "
                                     f"{components}"])
        self.assertEqual(len(lines), 12)
        self.assertIn(f"deb [arch=amd64] {base} {self.dist('testing')}-rollback1 {components}",
                      lines)
        everything = self.ok("sources_list", rollbacks="-1").splitlines()
        self.assertIn(f"deb [] {base} {self.dist('stable')}-rollback5 {components}", everything)
        # mirror replaces <url>/repositories, as in mini-buildd
        self.assertEqual(self.ok("sources_list", suites="unstable", mirror="http://m.invalid/x"),
                         f"deb [] http://m.invalid/x/test {self.dist('unstable')} {components}\n")
        commented = self.ok("sources_list", suites="unstable", with_comment="True").splitlines()
        self.assertEqual(len(commented), 2)
        self.assertTrue(commented[0].startswith("# ") and self.dist("unstable") in commented[0])
        # unknown arguments are ignored; bad values name the argument
        self.assertEqual(self.ok("sources_list", suites="unstable", nosuchargument="1"),
                         f"deb [] {base} {self.dist('unstable')} {components}\n")
        self.problem("sources_list", 400, "argument 'types'", types="rpm")
        self.problem("sources_list", 400, "argument 'rollbacks'", rollbacks="many")
        self.problem("sources_list", 400, "argument 'repositories'", repositories="nosuchrepo")
        self.problem("sources_list", 400, "argument 'snapshot'", snapshot="nosuchsnapshot")

    def test_ls_and_show(self):
        ls = self.ok("ls", source="hello-api")
        self.assertEqual(list(ls), ["test"])
        self.assertEqual(sorted(ls["test"]), sorted([self.dist("testing"), self.dist("unstable")]))
        unstable = ls["test"][self.dist("unstable")]
        self.assertEqual(sorted(unstable), LS_KEYS)
        self.assertEqual(unstable["version"], self.v2)
        self.assertEqual((unstable["component"], unstable["architecture"]), ("main", "source"))
        self.assertEqual(self.ok("ls", source="doesnotexist"), {})
        show = self.ok("show", source="hello-api")
        entry = show["test"][self.dist("unstable")]
        self.assertEqual(sorted(entry), SHOW_KEYS)
        self.assertEqual(entry["migrates_to"], self.dist("testing"))
        self.assertTrue(entry["dsc_path"].startswith("test/pool/main/h/hello-api/"), entry)
        self.assertFalse(entry["is_migrated"])
        # filters: codenames, repositories, version, min_version
        self.assertEqual(self.ok("ls", source="hello-api", codenames="nosuchcodename"), {})
        self.assertEqual(self.ok("ls", source="hello-api", repositories="test",
                                 codenames=self.codename), ls)
        self.assertEqual(list(self.ok("ls", source="hello-api", version=self.v1)["test"]),
                         [self.dist("testing")])
        self.assertEqual(list(self.ok("ls", source="hello-api", min_version=self.v2)["test"]),
                         [self.dist("unstable")])
        self.problem("ls", 400, "argument 'source' is missing")
        self.problem("show", 400, "argument 'min_version'", source="hello-api",
                     min_version="not a version")
        self.problem("ls", 400, "argument 'repositories'", source="hello-api",
                     repositories="nosuchrepo")

    def test_outputs(self):
        ctype, text = self.ok("ls", source="hello-api", output="plain")
        self.assertEqual(ctype, "text/plain")
        self.assertEqual(json.loads(text), self.ok("ls", source="hello-api"))
        self.assertIn("\n  ", text)  # pretty-printed
        ctype, page = self.ok("ls", source="hello-api", output="html")
        self.assertEqual(ctype, "text/html; charset=utf-8")
        self.assertTrue(page.startswith("<!DOCTYPE html>"), page)
        self.assertIn("<pre>", page)
        self.assertIn("&quot;test&quot;", page)
        self.assertNotIn('"test"', page)
        self.problem("ls", 400, "argument 'output'", source="hello-api", output="xml")

    def test_debdiff(self):
        diff = self.ok("debdiff", source="hello-api", repository="test")
        self.assertIn(self.v1, diff)
        self.assertIn(self.v2, diff)
        same = self.ok("debdiff", source="hello-api", repository="test", versiona=self.v2,
                       versionb=self.v2)
        self.assertNotIn(self.v1, same)
        self.problem("debdiff", 404, "no version a", source="hello-api", repository="test",
                     versiona="9.9")
        self.problem("debdiff", 400, "argument 'repository'", source="hello-api",
                     repository="nosuchrepo")
        self.problem("debdiff", 400, "argument 'repository' is missing", source="hello-api")

    # -- confirmable calls ------------------------------------------------------------------

    def test_confirm_needed(self):
        for call, args in [("migrate", {"source": "hello-api",
                                        "distribution": self.dist("unstable")}),
                           ("remove", {"source": "hello-api",
                                       "distribution": self.dist("unstable")}),
                           ("snapshot_create", {"distribution": self.dist("stable"),
                                                "name": "s"}),
                           ("snapshot_delete", {"distribution": self.dist("stable"),
                                                "name": "s"}),
                           ("start", {}), ("stop", {}), ("remake_chroots", {}), ("setup", {}),
                           ("debmirror", {}), ("wake", {})]:
            p = self.problem(call, 400, "", **args)
            # exactly mini-buildd's answer
            self.assertEqual(p["detail"], f"API call '{call}' needs to be confirmed: {call}")
            # a wrong confirm is no confirm
            self.problem(call, 400, "needs to be confirmed", confirm="yes", **args)
        self.assertEqual(self.ok("ls", source="hello-api")["test"][self.dist("unstable")]
                         ["version"], self.v2)

    def test_migrate_and_remove(self):
        before = self.ok("ls", source="gone-api")["test"]
        self.assertEqual(list(before), [self.dist("unstable")])
        self.assertEqual(self.ok("migrate", source="gone-api", distribution=self.dist("unstable"),
                                 confirm="migrate"), {})
        after = self.ok("ls", source="gone-api")["test"]
        self.assertEqual(sorted(after), sorted([self.dist("unstable"), self.dist("testing")]))
        self.problem("migrate", 400, "argument 'distribution'", source="gone-api",
                     distribution="nosuch-dist-at-all", confirm="migrate")
        self.problem("migrate", 404, "gone-api", source="gone-api",
                     distribution=self.dist("unstable"), version="9.9", confirm="migrate")
        self.assertEqual(self.ok("remove", source="gone-api", distribution=self.dist("testing"),
                                 confirm="remove"), {})
        self.assertEqual(list(self.ok("ls", source="gone-api")["test"]), [self.dist("unstable")])
        self.problem("remove", 400, "argument 'source' is missing",
                     distribution=self.dist("testing"), confirm="remove")

    def test_snapshots(self):
        stable = self.dist("stable")
        self.assertEqual(self.ok("snapshot_ls", distribution=stable), [])
        self.assertEqual(self.ok("snapshot_create", distribution=stable, name="s1",
                                 confirm="snapshot_create"), {})
        self.assertEqual(self.ok("snapshot_ls", distribution=stable), ["s1"])
        self.assertIn(f"{stable}/snapshots/s1 ",
                      self.ok("sources_list", suites="stable", snapshot="s1"))
        self.assertEqual(self.ok("snapshot_delete", distribution=stable, name="s1",
                                 confirm="snapshot_delete"), {})
        self.assertEqual(self.ok("snapshot_ls", distribution=stable), [])
        self.problem("snapshot_ls", 400, "argument 'distribution' is missing")
        self.problem("snapshot_ls", 400, "argument 'distribution'", distribution="nosuchdist")

    def test_uploaders(self):
        data = self.ok("uploaders")
        self.assertEqual(list(data), ["test"])
        self.assertEqual(sorted(data["test"]), ["allow_unauthenticated_uploads", "uploaders"])
        self.assertTrue(data["test"]["allow_unauthenticated_uploads"])
        self.assertEqual(self.ok("uploaders", repositories="nosuchrepo"), {})
        # a key of <home>/uploaders/test/ is listed with its fingerprint
        keydir = os.path.join(self.home, "uploaders", "test")
        os.makedirs(keydir, exist_ok=True)
        added = os.path.join(keydir, "someone.gpg")
        shutil.copy(self.key, added)
        try:
            shown = subprocess.run(["gpg", "--show-keys", "--with-colons", self.key],
                                   capture_output=True, text=True, check=True).stdout
            fingerprint = [line.split(":")[9] for line in shown.splitlines()
                           if line.startswith("fpr:")][0]
            data = self.ok("uploaders", repositories="test")
            self.assertEqual([u["key"] for u in data["test"]["uploaders"]], [fingerprint])
            self.assertEqual(sorted(data["test"]["uploaders"][0]),
                             ["created", "expires", "fingerprints", "key", "subkeys", "user"])
        finally:
            os.remove(added)

    def test_stop_start(self):
        try:
            self.assertEqual(self.ok("stop", confirm="stop"), {})
            self.assertEqual(self.ok("status")["load"], -1.0)
            # R calls: 503 while stopped; the other calls and the repositories keep working
            self.problem("snapshot_ls", 503, "engine", distribution=self.dist("stable"))
            self.problem("snapshot_create", 503, "engine", distribution=self.dist("stable"),
                         name="x", confirm="snapshot_create")
            self.problem("uploaders", 503, "engine")
            self.assertIn("test", self.ok("ls", source="hello-api"))
            status, _, _ = self.server.get(f"/repositories/test/dists/{self.dist('unstable')}/"
                                           "Release")
            self.assertEqual(status, 200)
            self.assertEqual(self.ok("stop", confirm="stop"), {})  # stopping twice is fine
        finally:
            self.assertEqual(self.ok("start", confirm="start"), {})
        self.assertEqual(self.ok("status")["load"], 0.0)
        self.assertEqual(self.ok("snapshot_ls", distribution=self.dist("stable")), [])

    # -- administration ---------------------------------------------------------------------

    def test_remake_chroots(self):
        # no chroots in this instance: nothing to do, and the engine runs again afterwards
        self.assertEqual(self.ok("remake_chroots", confirm="remake_chroots"), {})
        self.assertEqual(self.ok("status")["load"], 0.0)
        self.problem("remake_chroots", 400, "argument 'keys'", keys="sid:s390x",
                     confirm="remake_chroots")

    def test_setup_inspect(self):
        data = self.ok("setup", confirm="setup", repositories=f"test:Default:{self.codename}",
                       chroots=f"{self.codename}:s390x", sources="sid")
        self.assertEqual(sorted(data), ["instances", "report", "setup"])
        by = {(i["class"], i["identity"]): i for i in data["instances"]}
        self.assertEqual(by[("Repository", "test")]["status"], "ACTIVE")
        self.assertEqual(by[("Chroot", f"{self.codename}:s390x")]["status"], "MISSING")
        self.assertEqual(by[("Source", "sid")]["status"], "MISSING")
        self.assertEqual(by[("Daemon", "acc")]["status"], "ACTIVE")
        self.assertTrue(all(re.fullmatch("[0-9a-f]{64}", i["id"]) for i in data["instances"]))
        self.assertEqual(data["report"]["severity"], 2)
        self.assertEqual(data["setup"]["sources"], "sid")
        layout = self.ok("setup", confirm="setup", repositories="test:Debian Developer:sid,new::sid")
        by = {(i["class"], i["identity"]): i for i in layout["instances"]}
        self.assertEqual(by[("Repository", "test")]["status"], "CHANGED")
        self.assertIn("no distribution sid", by[("Repository", "test")]["detail"])
        self.assertEqual(by[("Repository", "new")]["status"], "MISSING")
        changed = self.ok("setup", confirm="setup", identity="other")
        self.assertEqual({(i["class"], i["status"]) for i in changed["instances"]
                          if i["class"] == "Daemon"}, {("Daemon", "CHANGED")})
        # update and pca: tests/frontends/test_server_setup.py
        self.problem("setup", 400, "argument 'sources'", confirm="setup", sources="nosuchcodename")

    def test_test_packages(self):
        uploads = self.ok("test_packages", confirm="test_packages")
        experimental = self.dist("experimental")
        self.assertEqual([(u["source"], u["distribution"]) for u in uploads],
                         [("mbd-test-archall", experimental), ("mbd-test-cpp", experimental),
                          ("mbd-test-ftbfs", experimental)])
        for upload in uploads:
            self.assertRegex(upload["version"], r"^1\.0\+[0-9]{14}~test")
            # the packager took it: its package directory holds the signed .changes
            changes = os.path.join(self.home, "packages", upload["key"],
                                   f"{upload['source']}_{upload['version']}_source.changes")
            with open(changes) as f:
                self.assertTrue(f.read().startswith("-----BEGIN PGP SIGNED MESSAGE-----"))
        # nothing left in incoming
        self.assertEqual([n for n in os.listdir(os.path.join(self.home, "incoming"))
                          if n.startswith("test-packages-")], [])
        self.problem("test_packages", 400, "argument 'sources'", sources="hello",
                     confirm="test_packages")
        self.problem("test_packages", 400, "argument 'distributions'",
                     distributions=self.dist("stable"), confirm="test_packages")
        # with_check and auto_ports: test_server_apirest.TestPackagesTest

    def test_not_implemented(self):
        if shutil.which("debmirror") is None:
            self.problem("debmirror", 501, "debmirror is not installed", confirm="debmirror")
        # wake and handshake: test_server_remotes; here only their mandatory arguments
        self.problem("wake", 400, "argument 'remote' is missing", confirm="wake")
        self.problem("handshake", 400, "argument 'signed_message' is missing")

if __name__ == "__main__":
    repotestlib.main()
