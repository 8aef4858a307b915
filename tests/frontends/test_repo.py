# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd repo/include/ls/show/search/migrate/remove/snapshot/sources-list: happy paths and refusals."""

import json
import os
import subprocess
import unittest

from mbdtestlib import HomeTestCase, run_mbd

MKPKG = r"""
set -e
out=$1; name=$2; ver=$3; arch=$4
w=$(mktemp -d "$out/w.XXXXXX")
mkdir -p "$w/$name/debian/source" "$w/pkg/DEBIAN" "$w/pkg/usr/share/doc/$name"
cd "$w/$name"
echo '3.0 (native)' > debian/source/format
printf 'Source: %s\nSection: misc\nPriority: optional\nMaintainer: T <t@example.org>\n\nPackage: %s\nArchitecture: %s\nDescription: test\n test\n' "$name" "$name" "$arch" > debian/control
printf '%s (%s) unstable; urgency=medium\n\n  * test\n\n -- T <t@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n' "$name" "$ver" > debian/changelog
echo hello > "$w/pkg/usr/share/doc/$name/README"
printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: T <t@example.org>\nSection: misc\nPriority: optional\nDescription: test\n test\n' "$name" "$ver" "$arch" > "$w/pkg/DEBIAN/control"
dpkg-deb -Zgzip --build "$w/pkg" "$w/${name}_${ver}_${arch}.deb" >/dev/null
cd "$w" && dpkg-source -b "$name" >/dev/null 2>&1
cd "$w/$name" && echo "${name}_${ver}_${arch}.deb misc optional" > debian/files
dpkg-genchanges -sa > "$w/${name}_${ver}_${arch}.changes" 2>/dev/null
mv "$w"/*.dsc "$w"/*.tar.xz "$w"/*.deb "$w"/*.changes "$out/"
rm -rf "$w"
"""


def mkpkg(out, name, version, arch="all"):
    """Builds NAME_VERSION{.dsc,.tar.xz,_ARCH.deb,_ARCH.changes} in OUT; returns the .changes."""
    subprocess.run(["sh", "-c", MKPKG, "mkpkg", out, name, version, arch], check=True)
    return os.path.join(out, f"{name}_{version}_{arch}.changes")


class RepoCliTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "clirepo", "--key-type", "ed25519", home=self.home)
        self.pkgs = os.path.join(self.tmp, "pkgs")
        os.mkdir(self.pkgs)

    def mbd(self, *args, check=True):
        return run_mbd(*args, home=self.home, check=check)

    def refused(self, *args, says, code=1):
        proc = self.mbd(*args, check=False)
        self.assertEqual(proc.returncode, code, proc.stderr)
        self.assertIn(says, proc.stderr)
        return proc

    def create_r(self):
        self.mbd("repo", "create", "r", "--layout", "default-no-rollbacks",
                 "--dist", "bookworm:amd64,i386?")

    def test_create_and_ls(self):
        self.create_r()
        data = json.loads(self.mbd("repo", "ls", "--json").stdout)
        self.assertEqual(sorted(data), ["r", "test"])
        self.assertEqual(data["r"]["codenames"], ["bookworm"])
        self.assertEqual(list(data["r"]["layout"]),
                         ["stable", "hotfix", "testing", "unstable", "snapshot", "experimental"])
        self.assertEqual(data["r"]["layout"]["unstable"],
                         {"uploadable": True, "experimental": False, "migrates_to": "testing"})
        human = self.mbd("repo", "ls").stdout
        self.assertIn("bookworm:amd64,i386?", human)
        self.assertTrue(os.path.exists(os.path.join(
            self.home, "repositories/r/dists/bookworm-r-unstable/InRelease")))

        self.refused("repo", "create", "r", says="repository r exists already")
        self.refused("repo", "create", "Bad", says="repository identity 'Bad' is invalid")
        self.refused("repo", "create", "x", "--layout", "nope", says="layout 'nope' is unknown")
        self.refused("repo", "create", "x", "--dist", "bookworm:amd64?",
                     says="cannot be optional")
        self.refused("repo", "create", says="give the repository identity", code=2)
        self.refused("repo", "frobnicate", says="unknown subcommand", code=2)

    def test_include_ls_show_search_check(self):
        self.create_r()
        changes = mkpkg(self.pkgs, "hello", "1.0~r12+1")
        out = self.mbd("include", "bookworm-r-unstable", changes).stdout
        self.assertIn("Included 1 file into bookworm-r-unstable", out)

        ls = json.loads(self.mbd("ls", "hello", "--json").stdout)
        self.assertEqual(ls, {"r": {"bookworm-r-unstable": {
            "rollbacks": {}, "version": "1.0~r12+1", "component": "main",
            "architecture": "source"}}})
        show = json.loads(self.mbd("show", "hello", "--json").stdout)
        entry = show["r"]["bookworm-r-unstable"]
        self.assertEqual(entry["dsc_path"], "r/pool/main/h/hello/hello_1.0~r12+1.dsc")
        self.assertEqual(entry["migrates_to"], "bookworm-r-testing")
        self.assertFalse(entry["is_migrated"])
        self.assertTrue(entry["uploadable"])
        self.assertEqual(json.loads(self.mbd("ls", "nothing", "--json").stdout), {})
        self.assertIn("1.0~r12+1", self.mbd("ls", "hello").stdout)

        found = json.loads(self.mbd("search", "ell", "--json").stdout)
        self.assertEqual(found, [{"repository": "r", "distribution": "bookworm-r-unstable",
                                  "source": "hello", "version": "1.0~r12+1",
                                  "binaries": ["hello"]}])

        lines = self.mbd("sources-list", "--repository", "r", "--suite", "unstable",
                         "--type", "deb", "--type", "deb-src",
                         "--mirror", "file://" + self.home).stdout.splitlines()
        self.assertEqual(lines, [
            f"deb [] file://{self.home}/repositories/r bookworm-r-unstable "
            "main contrib non-free non-free-firmware",
            f"deb-src [] file://{self.home}/repositories/r bookworm-r-unstable "
            "main contrib non-free non-free-firmware"])
        as_json = json.loads(self.mbd("sources-list", "--repository", "r", "--json").stdout)
        self.assertEqual(len(as_json.splitlines()), 6)

        check = self.mbd("repo", "check", "r", "--json")
        self.assertEqual(json.loads(check.stdout), [])
        # a damaged pool file is found
        deb = os.path.join(self.home, "repositories/r/pool/main/h/hello/hello_1.0~r12+1_all.deb")
        with open(deb, "ab") as f:
            f.write(b"x")
        bad = self.mbd("repo", "check", "r", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("hello_1.0~r12+1_all.deb: pool file differs", bad.stdout)

    def test_include_refusals(self):
        self.create_r()
        changes = mkpkg(self.pkgs, "hello", "1.0~r12+1")
        offlayout = mkpkg(self.pkgs, "bad", "1.0")
        self.mbd("include", "bookworm-r-unstable", changes)
        self.refused("include", "bookworm-r-nope", changes, says="bookworm-r-nope does not exist")
        self.refused("include", "bookworm-r-unstable", changes,
                     says="is in bookworm-r-unstable already")
        self.refused("include", "bookworm-r-unstable", offlayout,
                     says="version '1.0' does not match")
        self.refused("include", "bookworm-r-testing", changes, says="is not uploadable")
        self.refused("include", "nodash", changes, says="is malformed")
        self.refused("include", "bookworm-r-unstable", "/etc/passwd", says="cannot include")
        self.refused("include", "bookworm-r-unstable", says="give a distribution and files",
                     code=2)

    def test_files_from(self):
        self.create_r()
        mkpkg(self.pkgs, "one", "1~r12+1", "amd64")
        mkpkg(self.pkgs, "two", "1~r12+1", "all")
        listing = os.path.join(self.tmp, "list")
        with open(listing, "w") as f:
            f.write(f"{self.pkgs}/one_1~r12+1_amd64.deb\n\n{self.pkgs}/two_1~r12+1_all.deb\n")
        out = self.mbd("include", "bookworm-r-unstable", "--files-from", listing).stdout
        self.assertIn("Included 2 files", out)
        ls = json.loads(self.mbd("ls", "one", "--json").stdout)
        self.assertEqual(ls["r"]["bookworm-r-unstable"]["architecture"], "amd64")

    def test_migrate_remove_rollbacks(self):
        # the default repository 'test' (Default layout, host distribution) with rollbacks
        codename = json.loads(self.mbd("repo", "ls", "--json").stdout)["test"]["codenames"][0]
        if codename != "bookworm":
            self.skipTest("version suffixes below are for bookworm hosts")
        dist = "bookworm-test-unstable"
        v1 = mkpkg(self.pkgs, "hello", "1.0~test12+1")
        v2 = mkpkg(self.pkgs, "hello", "1.0~test12+2")
        self.mbd("include", dist, v1)
        self.mbd("include", dist, v2)
        ls = json.loads(self.mbd("ls", "hello", "--json").stdout)["test"][dist]
        self.assertEqual(ls["version"], "1.0~test12+2")
        self.assertEqual(ls["rollbacks"], {f"{dist}-rollback0": {
            "version": "1.0~test12+1", "component": "main", "architecture": "source"}})

        self.mbd("migrate", "hello", dist, "--full")
        ls = json.loads(self.mbd("ls", "hello", "--json").stdout)["test"]
        self.assertEqual(sorted(ls), ["bookworm-test-stable", "bookworm-test-testing", dist])
        self.refused("migrate", "hello", dist, says="migrated")
        self.refused("migrate", "hello", "bookworm-test-stable", says="does not migrate")
        self.refused("migrate", "nothing", dist, says="source nothing is not in")

        self.mbd("remove", "hello", dist)
        ls = json.loads(self.mbd("ls", "hello", "--json").stdout)["test"]
        self.assertNotIn(dist, ls)
        self.refused("remove", "hello", dist, says="source hello is not in")
        self.mbd("migrate", "hello", dist, "--rollback", "0")
        ls = json.loads(self.mbd("ls", "hello", "--json").stdout)["test"][dist]
        self.assertEqual(ls["version"], "1.0~test12+2")
        self.refused("migrate", "hello", dist, "--rollback", "0", says="remove it first")
        self.mbd("remove", "hello", dist, "--without-rollback", "--version", "1.0~test12+2")
        self.mbd("repo", "check", "test")

    def test_snapshots(self):
        self.create_r()
        self.mbd("include", "bookworm-r-unstable", mkpkg(self.pkgs, "hello", "1.0~r12+1"))
        self.assertEqual(json.loads(self.mbd("snapshot", "ls", "bookworm-r-unstable",
                                             "--json").stdout), [])
        self.mbd("snapshot", "create", "bookworm-r-unstable", "s1")
        self.assertEqual(json.loads(self.mbd("snapshot", "ls", "bookworm-r-unstable",
                                             "--json").stdout), ["s1"])
        release = os.path.join(self.home,
                               "repositories/r/dists/bookworm-r-unstable/snapshots/s1/InRelease")
        self.assertTrue(os.path.exists(release))
        lines = self.mbd("sources-list", "--repository", "r", "--snapshot", "s1").stdout
        self.assertIn(" bookworm-r-unstable/snapshots/s1 main", lines)
        self.refused("snapshot", "create", "bookworm-r-unstable", "s1", says="already")
        self.mbd("snapshot", "delete", "bookworm-r-unstable", "s1")
        self.assertFalse(os.path.exists(release))
        self.refused("snapshot", "delete", "bookworm-r-unstable", "s1", says="has no snapshot s1")
        self.refused("snapshot", "frob", says="give a subcommand", code=2)

    def test_key(self):
        binary = subprocess.run([os.environ["MBD"], "--home", self.home, "repo", "key"],
                                capture_output=True, check=True).stdout
        self.assertIn(binary[0], (0x98, 0x99))  # an OpenPGP public key packet
        armored = self.mbd("repo", "key", "--armor").stdout
        self.assertTrue(armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"))


if __name__ == "__main__":
    unittest.main()
