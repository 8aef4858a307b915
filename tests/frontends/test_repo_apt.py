# SPDX-License-Identifier: LGPL-2.1-or-later
"""Acceptance of the repository (issue 3, points 1 and 3) with a real apt:

- packages built with dpkg-deb/dpkg-source are included with `mbd include`; apt (throw-away
  root, signed-by the instance key, no trusted=yes, any W:/E: fails) updates, installs and
  fetches sources over file:// and over HTTP from mbd-server's /repositories/<id>/, using the
  lines of `mbd sources-list` as they are (only signed-by= added);
- rollback suites, migrated suites (testing, stable) and snapshot suites the same way;
- refusals (unknown distribution, same version twice, same file name with other content,
  version not matching the layout) exit 1 naming the input and change no file and no row."""

import os

from mbdtestlib import Server
from repotestlib import REPO_ID, RepoTestCase, main


class IncludeAptTest(RepoTestCase):
    def check_installed(self, root, package, version, arch=None):
        self.assertEqual(root.installed_version(package), version)
        self.assertEqual(root.marker(package), f"{package} {version} {arch or self.arch}\n")

    def check_suite(self, root, suite, package, version):
        """@package @version is apt's candidate and offered by @suite."""
        policy = root.policy(package)
        self.assertEqual(policy["candidate"], version, policy)
        origins = [line for _, line in policy["versions"][version]]
        self.assertTrue(any(f" {suite}/main " in o for o in origins),
                        f"{version} not offered by {suite}: {origins}")

    def bases(self):
        """("file", file://<home>), then ("http", a started mbd-server's URL), stopped after."""
        yield "file", self.file_base()
        server = Server(self.home)
        try:
            yield "http", server.base
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)

    def test_file_and_http(self):
        native, _ = self.upload("hello", "1.0")
        quilt, _ = self.upload("quilty", "2.0-1")
        listed = self.ls("hello")
        self.assertEqual(listed[REPO_ID][self.dist("unstable")]["version"], native)

        for name, base in (("file", self.file_base()), ("http", None)):
            server = None
            if base is None:
                server = Server(self.home)
                base = server.base
            try:
                root = self.apt_for(name, base, "--suite", "unstable", "--type", "deb",
                                    "--type", "deb-src")
                self.check_suite(root, self.dist("unstable"), "hello", native)
                root.install("hello", "hello-data", "quilty", "quilty-data")
                self.check_installed(root, "hello", native)
                self.check_installed(root, "hello-data", native, "all")
                self.check_installed(root, "quilty", quilt)
                self.check_installed(root, "quilty-data", quilt, "all")
                for package, version, tree in (("hello", native, f"hello-{native}"),
                                               ("quilty", quilt, "quilty-2.0")):
                    dest = root.source(f"{package}={version}")
                    with open(os.path.join(dest, tree, "debian/changelog")) as f:
                        self.assertIn(f"({version})", f.readline())
                # a second update with nothing changed (If-Modified-Since, by-hash) is clean
                root.update()
            finally:
                if server is not None:
                    code, err = server.stop()
                    self.assertEqual(code, 0, err)

    def test_sources_list_lines(self):
        """The lines name the repository base, the distribution and main, as mini-buildd's."""
        lines = self.sources("http://127.0.0.1:1", "--suite", "unstable", "--type", "deb")
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], rf"^deb \[[^\]]*signed-by=[^\]]*\] "
                                   rf"http://127.0.0.1:1/repositories/{REPO_ID}/? "
                                   rf"{self.dist('unstable')} main\b")

    def test_migrated_suites(self):
        version, _ = self.upload("migr", "1.0")
        self.mbd("migrate", "migr", self.dist("unstable"))
        self.mbd("migrate", "migr", self.dist("testing"))
        listed = self.ls("migr")[REPO_ID]
        for suite in ("unstable", "testing", "stable"):
            self.assertEqual(listed[self.dist(suite)]["version"], version, listed)
        for name, base in self.bases():
            for suite in ("testing", "stable"):
                root = self.apt_for(f"migr-{suite}-{name}", base, "--suite", suite,
                                    "--type", "deb", "--type", "deb-src")
                self.check_suite(root, self.dist(suite), "migr", version)
                root.install("migr", "migr-data")
                self.check_installed(root, "migr", version)
                root.source(f"migr={version}")

    def test_migrate_full(self):
        version, _ = self.upload("full", "1.0")
        self.mbd("migrate", "full", self.dist("unstable"), "--full")
        listed = self.ls("full")[REPO_ID]
        self.assertEqual(listed[self.dist("stable")]["version"], version, listed)
        root = self.apt_for("full", self.file_base(), "--suite", "stable", "--type", "deb")
        root.install("full")
        self.check_installed(root, "full", version)

    def test_rollback_suites(self):
        versions = [self.upload("roll", base)[0] for base in ("1.0", "1.1", "1.2")]
        listed = self.ls("roll")[REPO_ID][self.dist("unstable")]
        self.assertEqual(listed["version"], versions[2])
        rollbacks = listed["rollbacks"]
        self.assertEqual(rollbacks[self.dist("unstable") + "-rollback0"]["version"], versions[1])
        self.assertEqual(rollbacks[self.dist("unstable") + "-rollback1"]["version"], versions[0])

        for name, base in self.bases():
            root = self.apt_for("roll-" + name, base, "--suite", "unstable", "--rollbacks",
                                "--type", "deb", "--type", "deb-src")
            policy = root.policy("roll")
            self.assertEqual(policy["candidate"], versions[2])
            for n, version in ((0, versions[1]), (1, versions[0])):
                suite = f"{self.dist('unstable')}-rollback{n}"
                origins = [line for _, line in policy["versions"].get(version, [])]
                self.assertTrue(any(f" {suite}/main " in o for o in origins),
                                f"{version} not in {suite}: {policy}")
            root.install(f"roll={versions[0]}")
            self.check_installed(root, "roll", versions[0])
            root.source(f"roll={versions[1]}")

        # restoring rollback 0 (after removing the current version, as mbd asks) makes its
        # version current again
        self.mbd("remove", "roll", self.dist("unstable"), "--without-rollback")
        self.mbd("migrate", "roll", self.dist("unstable"), "--rollback", "0")
        self.assertEqual(self.ls("roll")[REPO_ID][self.dist("unstable")]["version"], versions[1])
        root = self.apt_for("roll-restored", self.file_base(), "--suite", "unstable",
                            "--type", "deb")
        self.assertEqual(root.policy("roll")["candidate"], versions[1])
        root.install("roll")
        self.check_installed(root, "roll", versions[1])

    def test_snapshot_suite(self):
        first, _ = self.upload("snap", "1.0")
        self.mbd("snapshot", "create", self.dist("unstable"), "before")
        second, _ = self.upload("snap", "1.1")
        self.assertIn("before", self.mbd("snapshot", "ls", self.dist("unstable")).stdout)

        root = self.apt_for("snap", self.file_base(), "--suite", "unstable", "--snapshot",
                            "before", "--type", "deb", "--type", "deb-src")
        policy = root.policy("snap")
        self.assertEqual(policy["candidate"], first, policy)
        self.assertTrue(any("snapshots/before" in line
                            for _, line in policy["versions"][first]), policy)
        self.assertNotIn(second, policy["versions"])
        root.install("snap")
        self.check_installed(root, "snap", first)
        root.source(f"snap={first}")

        # over HTTP too
        server = Server(self.home)
        try:
            root = self.apt_for("snap-http", server.base, "--suite",
                                "unstable", "--snapshot", "before", "--type", "deb")
            self.assertEqual(root.policy("snap")["candidate"], first)
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)

        self.mbd("snapshot", "delete", self.dist("unstable"), "before")
        self.assertFalse(os.path.exists(os.path.join(
            self.root, "dists", self.dist("unstable"), "snapshots", "before")))

    def test_remove(self):
        version, _ = self.upload("gone", "1.0")
        keep, _ = self.upload("kept", "1.0")
        self.mbd("remove", "gone", self.dist("unstable"))
        root = self.apt_for("remove", self.file_base(), "--suite", "unstable", "--type", "deb")
        self.assertIsNone(root.policy("gone")["candidate"])
        self.assertEqual(root.policy("kept")["candidate"], keep)
        check = self.mbd("repo", "check", REPO_ID)
        self.assertEqual(check.returncode, 0)


class RefusalTest(RepoTestCase):
    def refused(self, what, argv, *expected_in_message):
        """@argv exits 1, its message names every @expected_in_message, and nothing under
        repositories/ and no database row changed."""
        before = self.state()
        proc = self.mbd(*argv, check=False)
        after = self.state()
        self.assertEqual(proc.returncode, 1, f"{what}: {proc.stdout}{proc.stderr}")
        for part in expected_in_message:
            self.assertIn(part, proc.stderr, f"{what}: message does not name {part!r}")
        self.assert_state_equal(before, after, what)
        return proc.stderr

    def test_refusals(self):
        version, changes = self.upload("refuse", "1.0")
        quilt, _ = self.upload("origs", "3.0-1")
        check = self.mbd("repo", "check", REPO_ID)
        self.assertEqual(check.returncode, 0)

        # unknown distribution: codename, repository and suite each unknown
        for dist in (f"nosuchcodename-{REPO_ID}-unstable", f"{self.codename}-nosuchrepo-unstable",
                     f"{self.codename}-{REPO_ID}-nosuchsuite", "garbage"):
            with self.subTest(dist=dist):
                self.refused(f"unknown distribution {dist}", ["include", dist, changes], dist)

        # the same version twice (same files)
        self.refused("same version twice", ["include", self.dist("unstable"), changes],
                     version)

        # the same version twice into another suite of the repository
        again, _, _ = self.factory.package_set("refuse", version, self.dist("experimental"),
                                               outdir=os.path.join(self.tmp, "again"))
        self.refused("same version in another suite", ["include", self.dist("experimental"),
                                                       again], version)

        # the same file name with other content: a new revision whose orig tarball changed
        other, _, _ = self.factory.package_set("origs", self.version("3.0-2"),
                                               self.dist("unstable"), orig_extra="changed",
                                               outdir=os.path.join(self.tmp, "origs2"))
        self.refused("same file name, other content",
                     ["include", self.dist("unstable"), other], "origs_3.0.orig.tar.gz")

        # versions that do not follow the layout (~test<codeversion>+N; +0 only in experimental)
        for bad in ("1.1", "1.1-1", "1.1~other12+1", self.version("1.1", n=0)):
            with self.subTest(version=bad):
                path, _, _ = self.factory.package_set("refuse", bad, self.dist("unstable"),
                                                      outdir=os.path.join(self.tmp, "v" + bad))
                self.refused(f"version {bad}", ["include", self.dist("unstable"), path], bad)

        # not uploadable: testing, stable and rollbacks take no uploads
        newer = self.version("1.2")
        path, _, _ = self.factory.package_set("refuse", newer, self.dist("testing"),
                                              outdir=os.path.join(self.tmp, "testing"))
        for dist in (self.dist("testing"), self.dist("unstable") + "-rollback0"):
            with self.subTest(dist=dist):
                self.refused(f"not uploadable {dist}", ["include", dist, path], dist)

        # after all that the repository is still consistent and apt is happy
        self.assertEqual(self.mbd("repo", "check", REPO_ID).returncode, 0)
        root = self.apt_for("after", self.file_base(), "--suite", "unstable", "--type", "deb")
        self.assertEqual(root.policy("refuse")["candidate"], version)
        self.assertEqual(root.policy("origs")["candidate"], quilt)


if __name__ == "__main__":
    main()
