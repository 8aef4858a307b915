# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server's retry and cancel API calls (argument bkey, a package key), without builds: the
answers for a missing or unknown key and for packages in a state the call does not apply to, and
that clients on other hosts get no privilege of their own (401 without a login). That they retry
and cancel real builds is tests/e2e/test_retry_cancel.py."""

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

import test_server_upload
from mbdtestlib import MBD_SERVER


class PackagesApiTest(test_server_upload.UploadTest):
    def api(self, call, **args):
        if not getattr(self, "logged_in", False):
            self.server.login()  # retry and cancel are staff calls
            self.logged_in = True
        args.setdefault("confirm", call)  # both are confirmable (C), as in mini-buildd
        query = "&".join(f"{k}={v}" for k, v in args.items())
        status, ctype, body = self.server.get(f"/mini_buildd/api/{call}/?{query}")
        return status, json.loads(body)

    def test_errors(self):
        for call in ("retry", "cancel"):
            status, body = self.api(call)
            self.assertEqual(status, 400, body)
            self.assertIn(f"API call '{call}': the argument bkey", body["detail"])
            status, body = self.api(call, bkey="20990101-000000-000000")
            self.assertEqual(status, 404, body)
            self.assertIn("20990101-000000-000000", body["detail"])

        # a package the packager rejected (unknown repository) has ended: neither call applies
        proc = self.dput(self.make_upload())
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        key = self.wait_rejected("hello-up", "")["extra"]["timecode"]
        status, body = self.api("retry", bkey=key)
        self.assertEqual(status, 400, body)
        self.assertIn("only a failed package can be retried (a rejected upload is not kept",
                      body["detail"])
        status, body = self.api("cancel", bkey=key)
        self.assertEqual(status, 400, body)
        self.assertIn(key, body["detail"])
        # nothing new came of it (a rejected upload is not kept)
        self.assertEqual(os.listdir(os.path.join(self.home, "packages")), [])
        self.assertIn("upload", self.stop_log())


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"),
                     "a network namespace with an address of its own needs root and iproute2")
class RemoteClientTest(unittest.TestCase):
    def test_refused_from_other_hosts(self):
        """A client whose address is not loopback and who has not logged in gets 401 for retry
        and cancel, while reading calls answer: in a network namespace of the test, the server listens on a private
        address that the client connects from."""
        tmp = tempfile.mkdtemp(prefix="mbdns-", dir="/tmp")
        try:
            home = os.path.join(tmp, "home")
            subprocess.run([os.environ["MBD"], "--home", home, "init", "--key-type", "ed25519"],
                           check=True, capture_output=True)
            script = textwrap.dedent(f"""\
                set -e
                ip link set lo up
                ip addr add 10.251.0.1/32 dev lo
                {MBD_SERVER} --home {home} --address 10.251.0.1 --port 0 \\
                    --port-file {tmp}/port > {tmp}/server.log 2>&1 &
                pid=$!
                for i in $(seq 600); do [ -s {tmp}/port ] && break; sleep 0.1; done
                base=http://10.251.0.1:$(cat {tmp}/port)/mini_buildd/api
                for call in status retry cancel; do
                  code=$(curl -s -o {tmp}/$call.json -w '%{{http_code}}' \\
                         --interface 10.251.0.1 "$base/$call/?bkey=x")
                  echo "$call $code"
                done
                kill $pid; wait $pid || true
                """)
            proc = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True,
                                  text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            codes = dict(line.split() for line in proc.stdout.splitlines())
            self.assertEqual(codes, {"status": "200", "retry": "401", "cancel": "401"},
                             proc.stdout)
            with open(os.path.join(tmp, "retry.json")) as f:
                self.assertEqual(json.load(f)["detail"],
                                 "API call 'retry' needs authorization: STAFF")
        finally:
            subprocess.run(["gpgconf", "--homedir", os.path.join(tmp, "home", "gnupg"), "--kill",
                            "gpg-agent"], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)


def load_tests(loader, tests, pattern):
    """This module's tests only, not those PackagesApiTest inherits with its upload helpers."""
    suite = unittest.TestSuite()
    suite.addTest(PackagesApiTest("test_errors"))
    suite.addTests(loader.loadTestsFromTestCase(RemoteClientTest))
    return suite


if __name__ == "__main__":
    unittest.main(verbosity=2)
