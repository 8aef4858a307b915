# SPDX-License-Identifier: LGPL-2.1-or-later
"""From dput to installed (issue 5, acceptance 1) with real builds (suite e2e; root, sbuild, the
cached chroot of chrootcache.py). Debian's own dput, configured from mbd-server's dput_conf call,
uploads with its http method, at the same time:

* an unsigned source package (Architecture: any) to bookworm-test-unstable (repository test
  allows unauthenticated uploads);
* a source package signed (debsign's way: a clear-signed .changes) by an uploader key that is in
  the keyring of repository sig, which refuses unsigned uploads, Architecture: all, to
  bookworm-sig-unstable.

Each is accepted (PACKAGING), built, INSTALLED, and a real apt with signed-by the instance key
installs it from the server's /repositories/<id>/."""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, HERE)
from mbdtestlib import Server, run_mbd  # noqa: E402
from test_upload import (ARCH, CODENAME, CODEVERSION, UploadTestCase, make_upload,  # noqa: E402
                         package_events)


class TestDput(UploadTestCase):
    def uploader_key(self):
        """A new uploader key; its public part goes into repository sig's uploader keyring."""
        gnupg = os.path.join(self.tmp, "uploader")
        os.makedirs(gnupg, mode=0o700)
        subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--passphrase", "",
                        "--quick-gen-key", "Uploader <up@example.org>", "ed25519", "sign",
                        "never"], check=True, capture_output=True)
        keyring = os.path.join(self.home, "uploaders", "sig")
        os.makedirs(keyring)
        with open(os.path.join(keyring, "uploader.gpg"), "wb") as f:
            f.write(subprocess.run(["gpg", "--homedir", gnupg, "--export"], check=True,
                                   capture_output=True).stdout)
        return gnupg

    def test_dput_http_to_installed(self):
        run_mbd("repo", "create", "sig", "--dist", f"{CODENAME}:{ARCH}", home=self.home)
        gnupg = self.uploader_key()
        server = Server(self.home)
        try:
            version = self.version(1)
            unsigned = make_upload(self.work, "hello-dput", version)
            signed_version = f"1.0~sig{CODEVERSION}+1"
            signed_dir = os.path.join(self.work, "signed")
            os.makedirs(signed_dir)
            signed = make_upload(signed_dir, "hello-dput-signed", signed_version, arch="all",
                                 distribution=f"{CODENAME}-sig-unstable", signer=gnupg)

            start = time.monotonic()
            self.dput(server, unsigned, "-u")
            # dput itself checks both signatures first, with the uploader's own keyring
            self.dput(server, signed, gnupghome=gnupg)
            subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "gpg-agent"],
                           capture_output=True)

            for source, v in (("hello-dput", version),
                              ("hello-dput-signed", signed_version)):
                final = self.wait_final(v)
                print(f"dput of {source} to {final[0]['type']} in "
                      f"{time.monotonic() - start:.1f} s")
                events = package_events(self.home, v, source)
                types = [e["type"] for e in events]
                self.assertEqual([e["type"] for e in final], ["INSTALLED"], events)
                self.assertIn("PACKAGING", types)
            self.assertEqual(os.listdir(os.path.join(self.home, "incoming")), [])
            self.apt_install(server, "hello-dput", version)
            self.apt_install(server, "hello-dput-signed", signed_version, repository="sig")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
