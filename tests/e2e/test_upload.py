# SPDX-License-Identifier: LGPL-2.1-or-later
"""From upload to installed (issue 5) with real builds (suite e2e; root, sbuild, the cached
bookworm chroot of chrootcache.py):

1. `mbd upload` of an unsigned source upload (Architecture: any) to bookworm-test-unstable
   (repository test allows unauthenticated uploads): PACKAGING, BUILDING, BUILT, INSTALLED;
   then a real `apt-get install` over HTTP from mbd-server's /repositories/test/ with signed-by
   the instance key installs it. The same for a signed Architecture: all upload whose changelog
   sets MINI_BUILDD_OPTION: lintian-mode=ignore.
2. Nothing lost: test_upload_kill.py."""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import aptlib  # noqa: E402
from mbdtestlib import Server, run_mbd  # noqa: E402
from repotestlib import with_signed_by  # noqa: E402
from test_build import BuildTestCase, make_package  # noqa: E402

CODENAME = "bookworm"
DIST = "bookworm-test-unstable"
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()
CODEVERSION = "12"


def clearsign(gnupghome, path):
    """Clear-signs @path in place with the default key of @gnupghome."""
    subprocess.run(["gpg", "--homedir", gnupghome, "--batch", "--yes", "--clearsign",
                    "--output", path + ".asc", path], check=True, capture_output=True)
    os.replace(path + ".asc", path)


def make_upload(workdir, name, version, arch="any", option_lines="", distribution=DIST,
                signer=None, **package_args):
    """A native source package (test_build.make_package, with @package_args such as
    build_depends) and its source-only .changes (dpkg-genchanges -S) for @distribution; returns
    the .changes path. With @signer (a GnuPG home), the .dsc and the .changes are signed as
    debsign does: the .dsc first, so that the .changes lists the signed .dsc."""
    dsc = make_package(workdir, name, arch=arch, version=version, distribution=distribution,
                       changelog_lines=option_lines, **package_args)
    if signer is not None:
        clearsign(signer, dsc)
    changes = os.path.join(workdir, f"{name}_{version}_source.changes")
    with open(changes, "w") as f:
        subprocess.run(["dpkg-genchanges", "-S"], cwd=os.path.join(workdir, f"{name}-{version}"),
                       check=True, stdout=f, stderr=subprocess.DEVNULL)
    if signer is not None:
        clearsign(signer, changes)
    return changes


def events(home):
    out = run_mbd("events", "--json", home=home).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def package_events(home, version, source=None):
    return [e for e in events(home)
            if e["version"] == version and source in (None, e["source"])]


class UploadTestCase(BuildTestCase):
    """BuildTestCase's instance with the cached chroot, and a directory for the uploads."""

    def setUp(self):
        super().setUp()
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)

    def version(self, n):
        return f"1.0~test{CODEVERSION}+{n}"

    def wait_final(self, version, timeout=400):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in package_events(self.home, version)
                     if e["type"] in ("INSTALLED", "FAILED", "REJECTED")]
            if found:
                return found
            time.sleep(1)
        raise AssertionError(f"{version} did not end in {timeout} s: "
                             f"{package_events(self.home, version)}")

    def dput(self, server, changes, *args, gnupghome=None):
        """Debian's dput (http method) with the configuration of the server's dput_conf call;
        @args such as -u (unsigned) go before the target. Without -u, dput checks the
        signatures of the .changes and the .dsc with the keys of @gnupghome."""
        status, _, conf = server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertEqual(status, 200)
        cf = os.path.join(self.tmp, "dput.cf")
        with open(cf, "wb") as f:
            f.write(conf)
        env = dict(os.environ)
        if gnupghome is not None:
            env["GNUPGHOME"] = gnupghome
        proc = subprocess.run(["dput", "-c", cf, *args, "mini-buildd-e2e", changes],
                              capture_output=True, text=True, timeout=300, env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def api(self, server, call, **args):
        """(HTTP status, decoded JSON answer) of a mini-buildd API call (confirmed: the
        confirmable calls need confirm=<call>, the others ignore it)."""
        args.setdefault("confirm", call)
        query = urllib.parse.urlencode(args)
        status, _, body = server.get(f"/mini_buildd/api/{call}/?{query}")
        return status, json.loads(body)

    def ls_versions(self, source):
        out = run_mbd("ls", source, "--json", home=self.home).stdout
        data = json.loads(out)
        return data.get("test", {}).get(DIST, {}).get("version")

    def apt_root(self, server, repository="test", suite="unstable"):
        """A throw-away apt root (its own per call) with the sources of @repository's @suite
        from mbd-server, signed-by the instance key, updated."""
        key = aptlib.export_key(os.path.join(self.home, "gnupg"),
                                os.path.join(self.tmp, "instance-key.gpg"))
        self.apt_roots = getattr(self, "apt_roots", 0) + 1
        root = aptlib.AptRoot(os.path.join(self.tmp, f"apt{self.apt_roots}"))
        signed = root.add_key(key)
        out = run_mbd("sources-list", "--repository", repository, "--codename", CODENAME,
                      "--suite", suite, "--mirror", server.base, home=self.home).stdout
        lines = [with_signed_by(line, signed) for line in out.splitlines() if line.strip()]
        root.set_sources(lines)
        root.update()
        return root

    def apt_install(self, server, package, version, repository="test"):
        """A real apt-get install of @package from @repository over HTTP; asserts @version."""
        root = self.apt_root(server, repository)
        root.install(package)
        self.assertEqual(root.installed_version(package), version)
        return root


class TestUpload(UploadTestCase):
    def test_upload_build_install_apt(self):
        start = time.monotonic()
        v1 = self.version(1)
        changes = make_upload(self.work, "mbd-up-any", v1, arch="any")
        proc = run_mbd("upload", changes, home=self.home, timeout=600)
        took = time.monotonic() - start
        types = [line.split()[0] for line in proc.stdout.splitlines()]
        self.assertEqual(types, ["PACKAGING", "BUILDING", "BUILT", "INSTALLED"], proc.stdout)
        print(f"upload to INSTALLED (arch any): {took:.1f} s")
        self.assertEqual(self.ls_versions("mbd-up-any"), v1)

        # a signed arch-all upload with an upload option
        gnupg = os.path.join(self.tmp, "uploader")
        os.makedirs(gnupg, mode=0o700)
        subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--passphrase", "",
                        "--quick-gen-key", "Uploader <up@example.org>", "ed25519", "sign",
                        "never"], check=True, capture_output=True)
        v2 = self.version(1)
        changes = make_upload(self.work, "mbd-up-all", v2, arch="all",
                              option_lines="  * MINI_BUILDD_OPTION: lintian-mode=ignore\n")
        subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--yes", "--clearsign", "--output",
                        changes + ".asc", changes], check=True, capture_output=True)
        os.replace(changes + ".asc", changes)
        subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "gpg-agent"],
                       capture_output=True)
        proc = run_mbd("upload", changes, home=self.home, timeout=600)
        self.assertIn("INSTALLED", proc.stdout)
        built = [e for e in package_events(self.home, v2, "mbd-up-all") if e["type"] == "BUILT"]
        self.assertEqual(len(built), 1)
        self.assertEqual(built[0]["extra"]["architecture"], ARCH)
        installed = [e for e in package_events(self.home, v2, "mbd-up-all")
                     if e["type"] == "INSTALLED"]
        self.assertEqual(list(installed[0]["extra"]["buildresults"]), [ARCH])
        self.assertEqual(installed[0]["extra"]["buildresults"][ARCH],
                         built[0]["extra"]["build_key"])

        server = Server(self.home)
        try:
            self.apt_install(server, "mbd-up-any", v1)
            self.apt_install(server, "mbd-up-all", v2)
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
