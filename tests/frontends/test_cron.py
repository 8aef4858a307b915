# SPDX-License-Identifier: LGPL-2.1-or-later
"""The internal cron from the outside: `mbd cron ls [--json]` and `mbd cron run ID`, and
mbd-server's cronjob API call (an ADMIN call: confirm=cronjob, argument id, answer {id: success};
401 without a login, also from other hosts). The schedules over years
are tests/test-cron.c."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import textwrap
import unittest
import urllib.parse

from mbdtestlib import MBD_SERVER, HomeTestCase, Server, run_mbd

IDS = [
    "cronjob_retry_uploads (HOURLY)",
    "cronjob_setup_inspect (WEEKLY)",
    "cronjob_expire_builds (DAILY)",
    "cronjob_expire_events (WEEKLY)",
    "cronjob_snapshots (WEEKLY)",
    "cronjob_snapshots (MONTHLY)",
    "cronjob_snapshots (YEARLY)",
]


class CronCliTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--key-type", "ed25519", home=self.home)

    def jobs(self):
        return {j["id"]: j for j in json.loads(run_mbd("cron", "ls", "--json",
                                                       home=self.home).stdout)}

    def test_ls_and_run(self):
        jobs = self.jobs()
        self.assertEqual(list(jobs), IDS)
        for job in jobs.values():
            self.assertIsNone(job["last_run"])
            self.assertIsNone(job["last_success"])
            self.assertRegex(job["next_run"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$")
        self.assertEqual(jobs["cronjob_snapshots (WEEKLY)"]["schedule"],
                         "weekly: Sunday 02-03h UTC")

        out = run_mbd("cron", "run", "cronjob_snapshots (WEEKLY)", home=self.home).stdout
        self.assertIn("1 WEEKLY snapshots made of 1 stable-like distributions", out)
        job = self.jobs()["cronjob_snapshots (WEEKLY)"]
        self.assertTrue(job["last_success"])
        self.assertIsNotNone(job["last_run"])
        # the log names the distribution and the snapshot, mini-buildd's WEEKLY_<UTC minutes>
        created = [m for line in job["log"]
                   if (m := re.search(r" (\S+-test-stable): snapshot (WEEKLY_\S+) created", line))]
        self.assertEqual(len(created), 1, job["log"])
        dist, name = created[0].groups()
        self.assertRegex(name, r"^WEEKLY_\d{4}-\d\d-\d\dT\d\d:\d\d$")
        snapshots = json.loads(run_mbd("snapshot", "ls", dist, "--json", home=self.home).stdout)
        self.assertEqual(snapshots, [name])

        table = run_mbd("cron", "ls", home=self.home).stdout
        self.assertRegex(table, r"cronjob_snapshots \(WEEKLY\) .* ok: 1 WEEKLY snapshots")
        self.assertRegex(table, r"cronjob_retry_uploads \(HOURLY\) .* never")

    def test_errors(self):
        proc = run_mbd("cron", "run", "cronjob_nonsense", home=self.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("there is no cron job 'cronjob_nonsense'", proc.stderr)
        proc = run_mbd("cron", "run", home=self.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("give one job id", proc.stderr)
        proc = run_mbd("cron", "frobnicate", home=self.home, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("mbd cron ls|run", proc.stderr)


class CronApiTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--key-type", "ed25519", home=self.home)
        self.server = Server(self.home)

    def tearDown(self):
        self.server.stop()
        super().tearDown()

    def call(self, **args):
        query = urllib.parse.urlencode(args)
        status, ctype, body = self.server.get(f"/mini_buildd/api/cronjob/?{query}")
        return status, json.loads(body)

    def test_levels(self):
        """cronjob is an ADMIN call: 401 without a login (also from this host), 403 for staff;
        neither runs the job."""
        query = "id=cronjob_retry_uploads%20(HOURLY)&confirm=cronjob"
        status, body = self.call(id="cronjob_retry_uploads (HOURLY)", confirm="cronjob")
        self.assertEqual(status, 401, body)
        self.assertEqual(body["detail"], "API call 'cronjob' needs authorization: ADMIN")
        password = os.path.join(self.tmp, "pw")
        with open(password, "w") as f:
            f.write("staff-password\n")
        run_mbd("user", "add", "bob", "--staff", "--password-file", password, home=self.home)
        self.server.login("bob", "staff-password")
        status, _, raw = self.server.get(f"/mini_buildd/api/cronjob/?{query}")
        self.assertEqual(status, 403, raw)
        jobs = {j["id"]: j for j in json.loads(run_mbd("cron", "ls", "--json",
                                                       home=self.home).stdout)}
        self.assertIsNone(jobs["cronjob_retry_uploads (HOURLY)"]["last_run"])

    def test_cronjob(self):
        self.server.login()  # cronjob is an admin call
        status, body = self.call(id="cronjob_retry_uploads (HOURLY)")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["detail"], "API call 'cronjob' needs to be confirmed: cronjob")
        status, body = self.call(confirm="cronjob")
        self.assertEqual(status, 400, body)
        self.assertIn("the argument 'id'", body["detail"])
        status, body = self.call(id="cronjob_nonsense", confirm="cronjob")
        self.assertEqual(status, 404, body)
        self.assertIn("cronjob_nonsense", body["detail"])

        status, body = self.call(id="cronjob_retry_uploads (HOURLY)", confirm="cronjob")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"cronjob_retry_uploads (HOURLY)": True})
        jobs = {j["id"]: j for j in json.loads(run_mbd("cron", "ls", "--json",
                                                       home=self.home).stdout)}
        self.assertIn("nothing to retry", jobs["cronjob_retry_uploads (HOURLY)"]["last_message"])

        # an active chroot without its tree fails the weekly check: the answer says false
        with sqlite3.connect(os.path.join(self.home, "mbd.sqlite")) as db:
            db.execute("INSERT INTO chroots (codename, architecture, status) "
                       "VALUES ('bookworm', 'amd64', 2)")
        db.close()
        status, body = self.call(id="cronjob_setup_inspect (WEEKLY)", confirm="cronjob")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"cronjob_setup_inspect (WEEKLY)": False})


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip") and shutil.which("curl"),
                     "a network namespace with an address of its own needs root and iproute2")
class RemoteClientTest(unittest.TestCase):
    def test_refused_from_other_hosts(self):
        """cronjob changes the instance: 401 for a client on another host without a login."""
        tmp = tempfile.mkdtemp(prefix="mbdcr-", dir="/tmp")
        try:
            home = os.path.join(tmp, "home")
            run_mbd("init", "--key-type", "ed25519", home=home)
            script = textwrap.dedent(f"""\
                set -e
                ip link set lo up
                ip addr add 10.251.0.2/32 dev lo
                {MBD_SERVER} --home {home} --address 10.251.0.2 --port 0 \\
                    --port-file {tmp}/port > {tmp}/server.log 2>&1 &
                pid=$!
                for i in $(seq 600); do [ -s {tmp}/port ] && break; sleep 0.1; done
                curl -s -o {tmp}/answer.json -w '%{{http_code}}' --interface 10.251.0.2 \\
                  "http://10.251.0.2:$(cat {tmp}/port)/mini_buildd/api/cronjob/?confirm=cronjob&id=cronjob_retry_uploads%20(HOURLY)"
                kill $pid; wait $pid || true
                """)
            proc = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True,
                                  text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertEqual(proc.stdout.strip(), "401")
            with open(os.path.join(tmp, "answer.json")) as f:
                self.assertEqual(json.load(f)["detail"],
                                 "API call 'cronjob' needs authorization: ADMIN")
            jobs = {j["id"]: j for j in json.loads(run_mbd("cron", "ls", "--json",
                                                           home=home).stdout)}
            self.assertIsNone(jobs["cronjob_retry_uploads (HOURLY)"]["last_run"])
        finally:
            subprocess.run(["gpgconf", "--homedir", os.path.join(tmp, "home", "gnupg"), "--kill",
                            "gpg-agent"], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
