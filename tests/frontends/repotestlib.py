# SPDX-License-Identifier: LGPL-2.1-or-later
"""A repository made with the mbd CLI (contracts section 2) for the acceptance tests of issue 3:
an instance with repository 'test' for the host's codename and architecture, the instance key
exported for apt's signed-by=, the lines of `mbd sources-list` turned into apt sources, and a
snapshot of everything a refused command must leave alone (every file under repositories/ and
every database row)."""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import aptlib
import pkgfixtures
from mbdtestlib import MBD, kill_agent, run_mbd

REPO_ID = "test"


def repo_cli_missing():
    """The reason to skip while the repository commands have not landed, else None."""
    proc = run_mbd("repo", "--help", check=False)
    if proc.returncode == 2 and "unknown command" in proc.stderr:
        return "mbd has no 'repo' command yet (stream REPO)"
    return None


def with_signed_by(line, key):
    """@line, a one-line apt source as `mbd sources-list` prints it, with signed-by=@key added
    to its options (the only change made to it)."""
    m = re.match(r"^(deb(?:-src)?)\s+\[([^\]]*)\]\s+(.*)$", line)
    if m:
        options = m.group(2).strip()
        options = (options + " " if options else "") + f"signed-by={key}"
        return f"{m.group(1)} [{options}] {m.group(3)}"
    m = re.match(r"^(deb(?:-src)?)\s+(.*)$", line)
    if not m:
        raise AssertionError(f"not an apt source line: {line!r}")
    return f"{m.group(1)} [signed-by={key}] {m.group(2)}"


class RepoTestCase(unittest.TestCase):
    """One instance with repository 'test' (Default layout) per test class: the first include
    publishes every suite of the layout, which is the slow part; the tests of a class use
    package names of their own."""

    @classmethod
    def setUpClass(cls):
        reason = repo_cli_missing()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        cls.home = os.path.join(cls.tmp, "home")
        run_mbd("init", "--identity", "acc", "--key-type", "ed25519", home=cls.home)
        cls.codename = pkgfixtures.host_codename()
        cls.arch = pkgfixtures.native_arch()
        # `mbd init` makes mini-buildd's repository 'test' (host codename and architecture,
        # unauthenticated uploads allowed); create it only if that ever changes
        repos = json.loads(run_mbd("repo", "ls", "--json", home=cls.home).stdout)
        if REPO_ID not in repos:
            run_mbd("repo", "create", REPO_ID, "--dist", f"{cls.codename}:{cls.arch}",
                    "--allow-unauthenticated-uploads", home=cls.home)
        cls.root = os.path.join(cls.home, "repositories", REPO_ID)
        cls.key = cls.export_key()
        cls.factory = pkgfixtures.PackageFactory(os.path.join(cls.tmp, "build"))

    @classmethod
    def tearDownClass(cls):
        kill_agent(cls.home)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- the CLI ----------------------------------------------------------------------------

    def mbd(self, *args, check=True, timeout=120):
        return run_mbd(*args, home=self.home, check=check, timeout=timeout)

    def dist(self, suite):
        return f"{self.codename}-{REPO_ID}-{suite}"

    def version(self, base, n=1):
        return pkgfixtures.layout_version(base, REPO_ID, n=n)

    def include(self, dist, *files, check=True):
        return self.mbd("include", dist, *files, check=check)

    def upload(self, package, base, suite="unstable", n=1, **kwargs):
        """Builds and includes source + binaries of @package; returns (version, changes)."""
        version = self.version(base, n)
        changes, _, _ = self.factory.package_set(package, version, self.dist(suite), **kwargs)
        self.include(self.dist(suite), changes)
        return version, changes

    def ls(self, source):
        return json.loads(self.mbd("ls", source, "--json").stdout)

    @classmethod
    def export_key(cls):
        """The instance key for signed-by=: `mbd repo key` if it exists, else gpg's export of
        the instance's GnuPG home (which holds only the instance key)."""
        dest = os.path.join(cls.tmp, "instance-key.gpg")
        proc = subprocess.run([MBD, "--home", cls.home, "repo", "key"], capture_output=True,
                              timeout=60)
        if proc.returncode == 0 and proc.stdout:
            with open(dest, "wb") as f:
                f.write(proc.stdout)
            os.chmod(dest, 0o644)
            return dest
        return aptlib.export_key(os.path.join(cls.home, "gnupg"), dest)

    def sources(self, base, *args):
        """`mbd sources-list --repository test --codename C --mirror @base ARGS`, each line with
        signed-by added. @base replaces the instance URL: the lines point to
        <base>/repositories/test."""
        out = self.mbd("sources-list", "--repository", REPO_ID, "--codename", self.codename,
                       "--mirror", base, *args).stdout
        lines = [line for line in out.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        self.assertTrue(lines, f"sources-list {args} printed no lines")
        return [with_signed_by(line, self.key) for line in lines]

    def file_base(self):
        """The --mirror for the local tree: file://<home>."""
        aptlib.make_tree_readable(self.root)
        return f"file://{self.home}"

    def apt_root(self, name):
        return aptlib.AptRoot(os.path.join(self.tmp, "apt-" + name))

    def apt_for(self, name, base, *sources_args):
        """An apt root with the sources-list lines for @sources_args against @base, updated."""
        root = self.apt_root(name)
        signed = root.add_key(self.key)
        lines = [line.replace(f"signed-by={self.key}", f"signed-by={signed}")
                 for line in self.sources(base, *sources_args)]
        root.set_sources(lines)
        if base.startswith("file:"):
            aptlib.make_tree_readable(self.root)
        root.update()
        return root

    # -- what refusals must leave alone -----------------------------------------------------

    def state(self):
        """(every file/link/dir under repositories/ with its content hash, every db row)."""
        tree = {}
        top = os.path.join(self.home, "repositories")
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            tree[rel + "/"] = "dir"
            for name in filenames:
                path = os.path.join(dirpath, name)
                key = os.path.join(rel, name)
                if os.path.islink(path):
                    tree[key] = "link:" + os.readlink(path)
                else:
                    with open(path, "rb") as f:
                        tree[key] = hashlib.sha256(f.read()).hexdigest()
        db = sqlite3.connect(f"file:{os.path.join(self.home, 'mbd.sqlite')}?mode=ro", uri=True)
        try:
            rows = list(db.iterdump())
        finally:
            db.close()
        return tree, rows

    def assert_state_equal(self, before, after, what):
        tree_before, rows_before = before
        tree_after, rows_after = after
        changed = sorted(k for k in set(tree_before) | set(tree_after)
                         if tree_before.get(k) != tree_after.get(k))
        self.assertEqual(changed, [], f"{what}: files under repositories/ changed")
        added = [r for r in rows_after if r not in rows_before]
        removed = [r for r in rows_before if r not in rows_after]
        self.assertEqual((added, removed), ([], []), f"{what}: database rows changed")



def main():
    """unittest.main, but exit 77 (meson's SKIP) when every test was skipped, so that a run
    without the repository commands shows as skipped, not as passed."""
    import sys
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)
