# SPDX-License-Identifier: LGPL-2.1-or-later
"""The test harness itself: tests/pkgfixtures.py builds real packages, tests/aptlib.py drives a
real apt against a signed repository, over file:// and over HTTP from mbd-server's
/repositories/<id>/. The repository here is made with apt-ftparchive and gpg, independent of
mbd's own publisher, so that the harness is known to accept a good repository and to FAIL on a
bad one (wrong key, no signature, tampered index) before it judges mbd's."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import aptlib
import pkgfixtures
from mbdtestlib import Server, kill_agent, run_mbd

DIST = "bookworm-test-unstable"


def make_key(gnupghome):
    os.makedirs(gnupghome, mode=0o700)
    subprocess.run(["gpg", "--homedir", gnupghome, "--batch", "--passphrase", "",
                    "--quick-gen-key", "Fixture Archive <fixture@example.org>", "ed25519",
                    "sign", "never"], check=True, capture_output=True, timeout=60)


def ftparchive_repo(top, gnupghome, files, dist=DIST):
    """A signed repository at @top with @files in its pool, indexed by apt-ftparchive."""
    arch = pkgfixtures.native_arch()
    pool = os.path.join(top, "pool/main")
    os.makedirs(pool, exist_ok=True)
    for path in files:
        shutil.copy(path, pool)
    d = os.path.join(top, "dists", dist)
    for sub in (f"main/binary-{arch}", "main/source"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)

    def ftp(*args, out):
        proc = subprocess.run(["apt-ftparchive", *args], cwd=top, capture_output=True,
                              check=True, timeout=60)
        with open(out, "wb") as f:
            f.write(proc.stdout)
    ftp("packages", "pool", out=os.path.join(d, f"main/binary-{arch}/Packages"))
    ftp("sources", "pool", out=os.path.join(d, "main/source/Sources"))
    for index in (f"main/binary-{arch}/Packages", "main/source/Sources"):
        subprocess.run(["gzip", "-kf9n", os.path.join(d, index)], check=True)
    ftp("-o", f"APT::FTPArchive::Release::Suite={dist}",
        "-o", f"APT::FTPArchive::Release::Codename={dist}",
        "-o", f"APT::FTPArchive::Release::Architectures={arch}",
        "-o", "APT::FTPArchive::Release::Components=main",
        "release", os.path.join("dists", dist), out=os.path.join(top, "Release.tmp"))
    os.replace(os.path.join(top, "Release.tmp"), os.path.join(d, "Release"))
    subprocess.run(["gpg", "--homedir", gnupghome, "--batch", "--yes", "--clearsign",
                    "-o", os.path.join(d, "InRelease"), os.path.join(d, "Release")],
                   check=True, capture_output=True, timeout=60)
    aptlib.make_tree_readable(top)
    return top


class HarnessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        cls.home = os.path.join(cls.tmp, "home")
        run_mbd("init", "--identity", "harness", "--key-type", "ed25519", home=cls.home)
        cls.gnupg = os.path.join(cls.tmp, "gnupg")
        make_key(cls.gnupg)
        cls.key = aptlib.export_key(cls.gnupg, os.path.join(cls.tmp, "archive.gpg"))
        cls.factory = pkgfixtures.PackageFactory(os.path.join(cls.tmp, "build"))
        cls.native_version = pkgfixtures.layout_version("1.0", "test")
        cls.quilt_version = pkgfixtures.layout_version("2.0-1", "test")
        cls.native = cls.factory.package_set("hello", cls.native_version, DIST)
        cls.quilt = cls.factory.package_set("quilty", cls.quilt_version, DIST)
        files = []
        for changes, src, debs in (cls.native, cls.quilt):
            files += [src.dsc] + src.files + [d.path for d in debs]
        # the tree lies where mbd publishes, so mbd-server serves it too
        cls.repo = ftparchive_repo(os.path.join(cls.home, "repositories", "ftp"), cls.gnupg,
                                   files)

    @classmethod
    def tearDownClass(cls):
        kill_agent(cls.home)
        subprocess.run(["gpgconf", "--homedir", cls.gnupg, "--kill", "gpg-agent"],
                       capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def apt_root(self, name):
        root = aptlib.AptRoot(os.path.join(self.tmp, "apt-" + name))
        self.addCleanup(shutil.rmtree, root.path, True)
        return root

    # -- fixtures ---------------------------------------------------------------------------

    def test_layout_version(self):
        cv = pkgfixtures.host_codeversion()
        self.assertRegex(cv, r"^\d+$")
        self.assertEqual(pkgfixtures.layout_version("1.0", "test", "12"), "1.0~test12+1")
        self.assertEqual(pkgfixtures.layout_version("1.0-1", "test", "12", n=0),
                         "1.0-1~test12+0")
        self.assertEqual(self.native_version, f"1.0~test{cv}+1")

    def test_changes_checksums(self):
        """Every file a .changes lists is there with the size and checksums it says."""
        for changes, src, debs in (self.native, self.quilt):
            with open(changes) as f:
                text = f.read()
            listed = {}
            for field, algo in (("Checksums-Sha1", "sha1"), ("Checksums-Sha256", "sha256"),
                                ("Files", "md5")):
                block = re.search(rf"^{field}:\n((?: .*\n)+)", text, re.M).group(1)
                for line in block.splitlines():
                    parts = line.split()
                    digest, size, name = parts[0], int(parts[1]), parts[-1]
                    path = os.path.join(os.path.dirname(changes), name)
                    with open(path, "rb") as f:
                        data = f.read()
                    self.assertEqual(len(data), size, name)
                    self.assertEqual(hashlib.new(algo, data).hexdigest(), digest, name)
                    listed[name] = size
            expected = {os.path.basename(p) for p in [src.dsc] + src.files}
            expected |= {d.filename for d in debs}
            self.assertEqual(set(listed), expected)
            self.assertIn(f"Distribution: {DIST}\n", text)

    def test_formats(self):
        _, native, _ = self.native
        _, quilt, _ = self.quilt
        self.assertEqual(native.format, "native")
        self.assertEqual([os.path.basename(f) for f in native.files],
                         [f"hello_{self.native_version}.tar.xz"])
        self.assertEqual(quilt.format, "quilt")
        self.assertEqual(sorted(os.path.basename(f) for f in quilt.files),
                         [f"quilty_{self.quilt_version}.debian.tar.xz", "quilty_2.0.orig.tar.gz"])

    def test_same_name_other_content(self):
        other_dir = os.path.join(self.tmp, "other")
        a = self.factory.deb("twin", "1.0", arch="all", outdir=other_dir + "/a")
        b = self.factory.deb("twin", "1.0", arch="all", extra="other content",
                             outdir=other_dir + "/b")
        self.assertEqual(a.filename, b.filename)
        with open(a.path, "rb") as fa, open(b.path, "rb") as fb:
            self.assertNotEqual(fa.read(), fb.read())

    def test_orig_reproducible(self):
        """Two revisions of one upstream version carry the same orig tarball; orig_extra makes
        one with the same name and other content (a refusal case of the repository)."""
        def orig(version, extra=""):
            src = self.factory.source("origtest", version, outdir=os.path.join(
                self.tmp, "orig", version + extra), orig_extra=extra)
            path = [f for f in src.files if f.endswith(".orig.tar.gz")][0]
            with open(path, "rb") as f:
                return os.path.basename(path), f.read()
        first = orig("3.0-1")
        second = orig("3.0-2")
        other = orig("3.0-3", extra="changed upstream")
        self.assertEqual(first, second)
        self.assertEqual(first[0], other[0])
        self.assertNotEqual(first[1], other[1])

    def test_sign(self):
        path = os.path.join(self.tmp, "signed.changes")
        shutil.copy(self.native[0], path)
        pkgfixtures.sign(path, self.gnupg)
        with open(path) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PGP SIGNED MESSAGE-----"))
        proc = subprocess.run(["gpgv", "--keyring", self.key, path], capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    # -- apt against a good repository ------------------------------------------------------

    def check_repository(self, root, base):
        signed = root.add_key(self.key)
        root.set_sources([f"deb [signed-by={signed}] {base} {DIST} main",
                          f"deb-src [signed-by={signed}] {base} {DIST} main"])
        root.update()
        policy = root.policy("hello")
        self.assertEqual(policy["candidate"], self.native_version)
        self.assertIsNone(policy["installed"])
        self.assertEqual(policy["versions"][self.native_version][0][0], 500)
        self.assertIn(DIST, root.candidate_origin("hello")[0])
        root.install("hello", "quilty-data")
        self.assertEqual(root.installed_version("hello"), self.native_version)
        self.assertEqual(root.installed_version("quilty-data"), self.quilt_version)
        self.assertEqual(root.marker("hello"),
                         f"hello {self.native_version} {pkgfixtures.native_arch()}\n")
        self.assertEqual(root.marker("quilty-data"), f"quilty-data {self.quilt_version} all\n")
        self.assertEqual(root.policy("hello")["installed"], self.native_version)
        for package, version, unpacked in (("hello", self.native_version,
                                            f"hello-{self.native_version}"),
                                           ("quilty", self.quilt_version, "quilty-2.0")):
            dest = root.source(f"{package}={version}")
            self.assertTrue(os.path.isfile(os.path.join(dest, unpacked, "debian/changelog")))
            with open(os.path.join(dest, unpacked, "debian/changelog")) as f:
                self.assertIn(f"({version})", f.readline())
        root.remove("hello")
        self.assertIsNone(root.installed_version("hello"))
        self.assertIsNone(root.marker("hello"))

    def test_file(self):
        self.check_repository(self.apt_root("file"), f"file:{self.repo}")

    def test_http_from_mbd_server(self):
        server = Server(self.home)
        try:
            self.check_repository(self.apt_root("http"), f"{server.base}/repositories/ftp/")
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)

    def test_not_installed_on_host(self):
        proc = subprocess.run(["dpkg-query", "-W", "hello", "quilty-data"], capture_output=True)
        self.assertNotEqual(proc.returncode, 0)

    # -- the harness fails on bad repositories ----------------------------------------------

    def test_refuses_weak_sources(self):
        root = self.apt_root("weak")
        with self.assertRaisesRegex(AssertionError, "without signed-by"):
            root.set_sources([f"deb file:{self.repo} {DIST} main"])
        with self.assertRaisesRegex(AssertionError, "weakens"):
            root.set_sources([f"deb [trusted=yes signed-by={self.key}] file:{self.repo} {DIST} "
                              "main"])

    def test_wrong_key_fails(self):
        other = os.path.join(self.tmp, "othergnupg")
        make_key(other)
        self.addCleanup(subprocess.run, ["gpgconf", "--homedir", other, "--kill", "gpg-agent"],
                        capture_output=True)
        root = self.apt_root("wrongkey")
        signed = root.add_key(aptlib.export_key(other, os.path.join(self.tmp, "other.gpg")))
        root.set_sources([f"deb [signed-by={signed}] file:{self.repo} {DIST} main"])
        with self.assertRaisesRegex(aptlib.AptError, "NO_PUBKEY|not signed"):
            root.update()

    def broken_copy(self, name, damage):
        top = os.path.join(self.tmp, name)
        shutil.copytree(self.repo, top)
        damage(os.path.join(top, "dists", DIST))
        aptlib.make_tree_readable(top)
        root = self.apt_root(name)
        signed = root.add_key(self.key)
        root.set_sources([f"deb [signed-by={signed}] file:{top} {DIST} main"])
        return root

    def test_unsigned_fails(self):
        root = self.broken_copy("unsigned", lambda d: os.remove(os.path.join(d, "InRelease")))
        with self.assertRaisesRegex(aptlib.AptError, "E:.*(not signed|Release)"):
            root.update()

    def test_tampered_index_fails(self):
        def tamper(d):
            arch = pkgfixtures.native_arch()
            for name in ("Packages", "Packages.gz"):
                os.remove(os.path.join(d, f"main/binary-{arch}", name))
            with open(os.path.join(d, f"main/binary-{arch}/Packages"), "w") as f:
                f.write("Package: evil\nVersion: 1\nArchitecture: all\nFilename: x.deb\n"
                        "Size: 1\nSHA256: " + "0" * 64 + "\nDescription: evil\n")
        root = self.broken_copy("tampered", tamper)
        with self.assertRaisesRegex(aptlib.AptError, "(Hash Sum mismatch|File has unexpected "
                                                     "size|W:|E:)"):
            root.update()


if __name__ == "__main__":
    unittest.main(verbosity=2)
