# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ports with real builds (issue 5; suite e2e; root, sbuild, the cached bookworm chroot of
chrootcache.py), four builds in one instance served by mbd-server:

1. an upload to bookworm-test-unstable whose changelog has
   MINI_BUILDD_OPTION: auto-ports=bookworm-alt-unstable (alt: a second repository on the same
   codename) is INSTALLED, its INSTALLED event records the auto-port in extra.auto_ports, and
   the port (1.0~test12+1 -> 1.0~alt12+1) is INSTALLED too;
2. the API call port (confirm=port) rebuilds it in bookworm-alt-unstable
   (+rebuiltYYYYmmddHHMMSS);
3. `mbd port-ext` of an unsigned .dsc served by a local HTTP server on 127.0.0.1
   (--allow-unauthenticated) into bookworm-test-unstable (2.0 -> 2.0~test12+1);
then a real apt, with both repositories signed-by the instance key, sees every version and
installs the port and the port_ext."""

import functools
import gzip
import http.server
import json
import os
import sys
import threading
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
from test_build import ARCH, CODENAME, make_package  # noqa: E402
from test_upload import UploadTestCase, make_upload, package_events  # noqa: E402

DIST = "bookworm-test-unstable"
ALT = "bookworm-alt-unstable"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class TestPort(UploadTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("repo", "create", "alt", "--layout", "default-no-rollbacks", "--dist",
                f"{CODENAME}:{ARCH}", home=self.home)

    def wait_installed(self, version, source):
        found = self.wait_final(version)
        self.assertEqual([e["type"] for e in found], ["INSTALLED"],
                         package_events(self.home, version, source))
        return found[0]

    def apt_policy(self, server, *packages):
        key = aptlib.export_key(os.path.join(self.home, "gnupg"),
                                os.path.join(self.tmp, "instance-key.gpg"))
        root = aptlib.AptRoot(os.path.join(self.tmp, "apt"))
        signed = root.add_key(key)
        lines = []
        for repo in ("test", "alt"):
            out = run_mbd("sources-list", "--repository", repo, "--codename", CODENAME,
                          "--suite", "unstable", "--mirror", server.base, home=self.home).stdout
            lines += [with_signed_by(line, signed) for line in out.splitlines() if line.strip()]
        root.set_sources(lines)
        root.update()
        return root, {p: root.policy(p) for p in packages}

    def test_auto_port_port_port_ext(self):
        start = time.monotonic()
        server = Server(self.home)
        httpd = None
        try:
            server.login()  # port and port_ext are staff calls
            # 1. upload with auto-ports: two builds
            v1 = self.version(1)
            changes = make_upload(
                self.work, "mbd-port-e2e", v1, arch="all",
                option_lines=f"  * MINI_BUILDD_OPTION: auto-ports={ALT}\n")
            proc = run_mbd("upload", changes, home=self.home, timeout=900)
            self.assertIn("INSTALLED", proc.stdout)
            installed = self.wait_installed(v1, "mbd-port-e2e")
            auto = installed["extra"]["auto_ports"]
            self.assertEqual(list(auto), [ALT], auto)
            self.assertTrue(auto[ALT][0], auto)
            ported = "1.0~alt12+1"
            port_event = self.wait_installed(ported, "mbd-port-e2e")
            self.assertEqual(port_event["distribution"], ALT)
            self.assertEqual(port_event["extra"]["timecode"], auto[ALT][1])
            print(f"upload + auto-port INSTALLED: {time.monotonic() - start:.1f} s")

            # 2. the API call port: a rebuild in alt
            query = urllib.parse.urlencode({
                "source": "mbd-port-e2e", "from_distribution": ALT, "to_distributions": ALT,
                "options": "lintian-mode=ignore", "confirm": "port", "output": "json"})
            status, _, body = server.get_json(f"/mini_buildd/api/port/?{query}")
            self.assertEqual(status, 200, body)
            rebuilt = body[0]["version"]
            self.assertRegex(rebuilt, r"^1\.0~alt12\+1\+rebuilt[0-9]{14}$")
            self.assertEqual(body[0]["distribution"], ALT)
            self.wait_installed(rebuilt, "mbd-port-e2e")
            print(f"... + API port (rebuild) INSTALLED: {time.monotonic() - start:.1f} s")

            # 3. port-ext of a .dsc over HTTP on 127.0.0.1
            served = os.path.join(self.tmp, "served")
            os.makedirs(served)
            make_package(served, "mbd-portext-e2e", arch="all", version="2.0")
            handler = functools.partial(QuietHandler, directory=served)
            httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{httpd.server_address[1]}/mbd-portext-e2e_2.0.dsc"
            refused = run_mbd("port-ext", url, DIST, home=self.home, check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("signed", refused.stderr)
            proc = run_mbd("port-ext", url, DIST, "--allow-unauthenticated", home=self.home)
            dist, source, version, _ = proc.stdout.split()
            self.assertEqual((dist, source, version), (DIST, "mbd-portext-e2e", "2.0~test12+1"))
            self.wait_installed(version, "mbd-portext-e2e")
            print(f"... + port-ext INSTALLED: {time.monotonic() - start:.1f} s")

            # a real apt sees all of them and installs the port and the port_ext
            root, policy = self.apt_policy(server, "mbd-port-e2e", "mbd-portext-e2e")
            versions = set(policy["mbd-port-e2e"]["versions"])
            self.assertEqual(versions, {v1, rebuilt}, policy)
            self.assertEqual(set(policy["mbd-portext-e2e"]["versions"]), {version}, policy)
            root.install(f"mbd-port-e2e={rebuilt}", "mbd-portext-e2e")
            self.assertEqual(root.installed_version("mbd-port-e2e"), rebuilt)
            self.assertEqual(root.installed_version("mbd-portext-e2e"), version)
            # the ported changelog names the port and keeps the original entry
            with open(os.path.join(root.path, "usr/share/doc/mbd-port-e2e/changelog.gz"),
                      "rb") as f:
                text = gzip.decompress(f.read()).decode()
            self.assertIn("Automated port via mbd (no changes)", text)
            self.assertIn("Initial release.", text)
        finally:
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
            code, err = server.stop()
        self.assertEqual(code, 0, err)
        print(f"port e2e: {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
