# SPDX-License-Identifier: LGPL-2.1-or-later
"""Following the event log of a real mbd-server: mini-buildd's long-poll
GET /static/events.attach[?after=] (one event per request, 204 after --events-timeout, 400 for a
bad `after`, 503 beyond --events-max-clients, a hung-up client's place freed) and Server-Sent
Events on GET /events (id/event/data, keep-alive comments, resuming with Last-Event-ID).

E-mail: the server mails each event through the `sendmail` mail setting, here a stand-in script
that keeps every message it reads on standard input (there is no MTA here: that is the system
boundary), to the notify lists and the allowed Changed-By/Maintainer, each address once; a
failing sendmail is logged and the event still goes out.

Events come from uploads the packager rejects at once: garbage PUT as a .changes, or a .changes
to a distribution of no repository or with a version the layout refuses (no chroot, no
build)."""

import concurrent.futures
import email
import email.policy
import glob
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import unittest
import urllib.parse

import pkgfixtures
from mbdtestlib import MBD, HomeTestCase, Server, run_mbd

TIMEOUT = 3  # --events-timeout of the test server
MAX_CLIENTS = 3


class EventsTest(HomeTestCase):
    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", "evtest", "--key-type", "ed25519", home=self.home)
        self.server = Server(self.home, extra_args=(
            "--events-timeout", str(TIMEOUT), "--events-keepalive", "1",
            "--events-max-clients", str(MAX_CLIENTS)))
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=MAX_CLIENTS + 2)

    def tearDown(self):
        self.pool.shutdown(wait=True)
        if self.server.proc.poll() is None:
            self.server.stop()
        super().tearDown()

    # -- helpers ----------------------------------------------------------------------------

    def reject(self, source):
        """A garbage upload the packager rejects: a REJECTED event of @source."""
        body = b"\x00 this is no .changes\n"
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("PUT", f"/upload/{source}_1.0_source.changes", body=body)
        response = conn.getresponse()
        response.read()
        conn.close()
        self.assertEqual(response.status, 400)

    def attach(self, query="", timeout=TIMEOUT + 20):
        """(status, content type, body, seconds taken) of one long-poll."""
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        conn.request("GET", "/static/events.attach" + query)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return (response.status, response.headers["Content-Type"], body,
                time.monotonic() - started)

    def attach_after(self, stamp):
        return self.attach("?after=" + urllib.parse.quote(stamp, safe=""))

    def assert_waiting(self, future, seconds=0.5):
        time.sleep(seconds)
        self.assertFalse(future.done(), "the long-poll answered without an event")

    def assert_problem(self, status, ctype, body, code, *parts):
        self.assertEqual(status, code, body)
        self.assertEqual(ctype, "application/problem+json")
        problem = json.loads(body)
        self.assertEqual(problem["status"], code)
        for part in parts:
            self.assertIn(part, problem["detail"])

    # -- long-poll ----------------------------------------------------------------------------

    def test_attach_waits_for_the_next_event(self):
        """Without `after` the request blocks until a new event exists and answers exactly that
        one in mini-buildd's JSON shape; the server serves other requests meanwhile."""
        self.reject("before")  # an old event, not to be answered
        time.sleep(0.3)
        future = self.pool.submit(self.attach)
        self.assert_waiting(future)
        status, _, body = self.server.get("/mini_buildd/api/status/?output=json")
        self.assertEqual(status, 200, "the server stopped serving while a long-poll waits")
        self.reject("fresh")
        status, ctype, body, _ = future.result(timeout=20)
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json; charset=UTF-8")
        event = json.loads(body)
        self.assertEqual(event["type"], "REJECTED")
        self.assertEqual(event["source"], "fresh")
        self.assertEqual(sorted(event), ["distribution", "extra", "source", "timestamp", "type",
                                         "version"])
        self.assertIn("fresh_1.0_source.changes", event["extra"]["error"]["detail"])

    def test_attach_after(self):
        """`after` replays the first event later than the stamp, oldest first; after the newest
        one the request waits; --events-timeout ends a wait with 204."""
        self.reject("first")
        self.reject("second")
        status, _, body, took = self.attach_after("2000-01-01T00:00:00+00:00")
        self.assertEqual(status, 200, body)
        first = json.loads(body)
        self.assertEqual(first["source"], "first")
        self.assertLess(took, 2)
        status, _, body, _ = self.attach_after(first["timestamp"])
        second = json.loads(body)
        self.assertEqual(second["source"], "second")
        # an unencoded '+' of the zone arrives as a space; it still works
        status, _, body, _ = self.attach("?after=" + first["timestamp"])
        self.assertEqual(json.loads(body)["source"], "second")
        # another zone, the same instant
        status, _, body, _ = self.attach_after("1999-12-31T19:00:00-05:00")
        self.assertEqual(json.loads(body)["source"], "first")

        status, _, body, took = self.attach_after(second["timestamp"])
        self.assertEqual(status, 204, body)
        self.assertEqual(body, b"")
        self.assertGreaterEqual(took, TIMEOUT - 0.5)
        self.assertLess(took, TIMEOUT + 5)

    def test_attach_connection_queue(self):
        """mini-buildd's client loops on one kept-alive connection with the same `after`: each
        request on that connection answers the event after the one it got last, never the
        same one again, and then waits for the next."""
        self.reject("q1")
        self.reject("q2")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT + 20)
        query = "/static/events.attach?after=" + urllib.parse.quote("2000-01-01T00:00:00+00:00")

        def one():
            conn.request("GET", query)
            response = conn.getresponse()
            body = response.read()
            self.assertEqual(response.status, 200, body)
            self.assertNotEqual(response.headers["Connection"], "close")
            return json.loads(body)["source"]

        try:
            self.assertEqual(one(), "q1")
            self.assertEqual(one(), "q2")
            future = self.pool.submit(one)
            self.assert_waiting(future)
            self.reject("q3")
            self.assertEqual(future.result(timeout=20), "q3")
        finally:
            conn.close()

    def test_attach_bad_after(self):
        """A bad `after` gets 400 with a problem naming the parameter and the value."""
        for bad in ("yesterday", "2024-01-01T00:00:00", "2024-13-01T00:00:00+00:00", ""):
            status, ctype, body, _ = self.attach("?after=" + urllib.parse.quote(bad))
            self.assert_problem(status, ctype, body, 400, "Parameter 'after'", f"'{bad}'")
        status, ctype, body, _ = self.attach("/deeper")
        self.assert_problem(status, ctype, body, 404, "/static/events.attach/deeper")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("POST", "/static/events.attach", body=b"")
        response = conn.getresponse()
        self.assert_problem(response.status, response.headers["Content-Type"], response.read(),
                            405, "POST")
        self.assertEqual(response.headers["Allow"], "GET")
        conn.close()

    def test_attach_client_limit(self):
        """Beyond --events-max-clients the server answers 503 at once; clients that hang up
        free their places (the server notices without waiting for an event)."""
        waiting = [self.pool.submit(self.attach) for _ in range(MAX_CLIENTS)]
        time.sleep(0.5)
        status, ctype, body, took = self.attach()
        self.assert_problem(status, ctype, body, 503, f"the limit is {MAX_CLIENTS}")
        self.assertLess(took, 2)
        for future in waiting:
            status, _, _, _ = future.result(timeout=TIMEOUT + 20)
            self.assertEqual(status, 204)

        socks = []
        for _ in range(MAX_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
            sock.sendall(b"GET /static/events.attach HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(sock)
        time.sleep(0.5)
        for sock in socks:
            sock.close()
        time.sleep(0.5)
        future = self.pool.submit(self.attach)
        self.assert_waiting(future)
        self.reject("afterhangup")
        status, _, body, _ = future.result(timeout=20)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["source"], "afterhangup")

    def test_attach_shutdown(self):
        """Stopping the server answers a waiting long-poll with 503 (as mini-buildd wakes its
        clients) and ends a stream, instead of dropping the connections."""
        future = self.pool.submit(self.attach)
        conn, response = self.open_stream()
        self.assert_waiting(future)
        code, _ = self.server.stop()
        self.assertEqual(code, 0)
        status, ctype, body, _ = future.result(timeout=10)
        self.assert_problem(status, ctype, body, 503, "shutting down")
        self.assertNotIn(b"data:", response.read())  # the chunked body ends cleanly
        conn.close()

    # -- Server-Sent Events -----------------------------------------------------------------

    def open_stream(self, headers=None, query=""):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        conn.request("GET", "/events" + query, headers=headers or {})
        response = conn.getresponse()
        return conn, response

    @staticmethod
    def read_message(response):
        """The next SSE message as (fields dict, comments list)."""
        fields, comments = {}, []
        while True:
            line = response.readline().decode()
            if line == "":
                raise AssertionError("the event stream ended")
            line = line.rstrip("\n")
            if line == "":
                if fields or comments:
                    return fields, comments
                continue
            if line.startswith(":"):
                comments.append(line)
                continue
            key, _, value = line.partition(":")
            fields[key] = value.lstrip(" ")

    def read_event(self, response, seconds=20):
        """The next event of a stream; keep-alive comments arrive every second, so the socket
        timeout alone would never end a wait for an event that does not come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            fields, _ = self.read_message(response)
            if "data" in fields:
                return fields
        self.fail(f"no event on the stream within {seconds} s")

    def test_stream(self):
        """GET /events streams each new event as id/event/data, with keep-alive comments in
        between; Last-Event-ID resumes right after that event."""
        self.reject("old")
        conn, response = self.open_stream()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["Content-Type"], "text/event-stream")
        self.assertEqual(response.headers["Cache-Control"], "no-cache")
        # a keep-alive comment within the interval (1 s), and no old event
        deadline = time.monotonic() + 5
        keepalives = 0
        while keepalives < 2 and time.monotonic() < deadline:
            fields, comments = self.read_message(response)
            self.assertEqual(fields, {}, "an event before any was stored")
            keepalives += sum(1 for c in comments if "keep-alive" in c)
        self.assertGreaterEqual(keepalives, 2)

        self.reject("one")
        self.reject("two")
        one = self.read_event(response)
        two = self.read_event(response)
        conn.close()
        self.assertEqual(one["event"], "REJECTED")
        self.assertEqual(json.loads(one["data"])["source"], "one")
        self.assertEqual(json.loads(two["data"])["source"], "two")
        self.assertEqual(int(two["id"]), int(one["id"]) + 1)

        # an EventSource reconnecting keeps its URL: Last-Event-ID wins over `after`
        conn, response = self.open_stream({"Last-Event-ID": one["id"]},
                                          query="?after=2100-01-01T00:00:00%2B00:00")
        again = self.read_event(response)
        conn.close()
        self.assertEqual(again["id"], two["id"])
        self.assertEqual(again["data"], two["data"])

        conn, response = self.open_stream(query="?after=2000-01-01T00:00:00%2B00:00")
        oldest = self.read_event(response)
        conn.close()
        self.assertEqual(json.loads(oldest["data"])["source"], "old")

    def test_stream_bad_last_event_id(self):
        """A Last-Event-ID that is no event id gets 400 naming the header."""
        conn, response = self.open_stream({"Last-Event-ID": "abc"})
        self.assert_problem(response.status, response.headers["Content-Type"], response.read(),
                            400, "Last-Event-ID", "'abc'")
        conn.close()


    def test_cli_follow(self):
        """`mbd events --follow` prints the stored events, then each new one that the server
        process stores, at once (no polling interval), until SIGINT ends it with 0."""
        self.reject("stored")
        proc = subprocess.Popen([MBD, "--home", self.home, "events", "--follow", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = json.loads(proc.stdout.readline())
            self.assertEqual(first["source"], "stored")
            time.sleep(0.5)
            started = time.monotonic()
            self.reject("followed")
            second = json.loads(proc.stdout.readline())
            self.assertEqual(second["source"], "followed")
            self.assertLess(time.monotonic() - started, 5)
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(timeout=10), 0, proc.stderr.read())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    # -- e-mail -------------------------------------------------------------------------------

    def put(self, name, data, expect=201):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("PUT", f"/upload/{name}", body=data)
        response = conn.getresponse()
        answer = response.read()
        conn.close()
        self.assertEqual(response.status, expect, answer)

    def put_changes(self, name, distribution, version, changed_by, maintainer):
        """PUTs a .changes listing one small file (which goes first); the packager rejects it
        at its distribution or version check."""
        dsc = f"{name}_{version}.dsc"
        data = f"Source: {name}\n".encode()
        sha256, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()
        text = (f"Format: 1.8\nDate: Thu, 01 Jan 2026 00:00:00 +0000\nSource: {name}\n"
                f"Architecture: source\nVersion: {version}\nDistribution: {distribution}\n"
                f"Urgency: medium\nMaintainer: {maintainer}\nChanged-By: {changed_by}\n"
                f"Changes:\n {name} ({version}) {distribution}; urgency=medium\n"
                f"Checksums-Sha256:\n {sha256} {len(data)} {dsc}\n"
                f"Files:\n {md5} {len(data)} misc optional {dsc}\n").encode()
        self.put(dsc, data)
        self.put(f"{name}_{version}_source.changes", text)

    def sendmail_stand_in(self, body):
        path = os.path.join(self.tmp, "sendmail")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, 0o755)
        return path

    def wait_mails(self, maildir, count, seconds=30):
        deadline = time.monotonic() + seconds
        while True:
            paths = sorted(glob.glob(os.path.join(maildir, "*.mail")))
            done = [p for p in paths if os.path.exists(p[:-5] + ".done")]
            if len(done) >= count:
                mails = []
                for path in done:
                    with open(path, "rb") as f:
                        mails.append(email.message_from_bytes(f.read(),
                                                              policy=email.policy.default))
                    with open(path[:-5] + ".args") as f:
                        self.assertEqual(f.read(), "-t -oi\n")
                return mails
            if time.monotonic() > deadline:
                self.fail(f"{len(done)} of {count} mails after {seconds} s")
            time.sleep(0.1)

    def test_mail(self):
        """Each event is mailed once through sendmail -t -oi to the instance's and the
        repository's notify lists and the Changed-By/Maintainer that the repository allows
        and allow-emails-to matches; the subject names the instance, type, package and
        distribution; the body carries the event's JSON."""
        maildir = os.path.join(self.tmp, "mails")
        os.mkdir(maildir)
        sendmail = self.sendmail_stand_in(
            f'f=$(mktemp "{maildir}/XXXXXX"); echo "$@" > "$f.args"; cat > "$f.mail"; '
            'touch "$f.done"')
        for args in (("sendmail", sendmail), ("from", "mbd@build.example.org"),
                     ("notify", "admin@example.org"), ("allow-emails-to", r".*@example\.org")):
            run_mbd("mail", "set", *args, home=self.home)
        run_mbd("mail", "set", "--repo", "test", "notify", "team@example.org ADMIN@example.org",
                home=self.home)
        run_mbd("mail", "--repo", "test", "set", "notify-maintainer", "true", home=self.home)
        run_mbd("mail", "set", "--repo", "test", "notify-changed-by", "true", home=self.home)
        proc = run_mbd("mail", "set", "notify", "admin@example.org, bogus", home=self.home,
                       check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("'bogus' is not an e-mail address", proc.stderr)
        shown = run_mbd("mail", "show", "--repo", "test", home=self.home).stdout
        self.assertEqual(shown, "notify=team@example.org,ADMIN@example.org\n"
                                "notify-changed-by=true\nnotify-maintainer=true\n")
        codename = pkgfixtures.host_codename()

        # a repository that does not exist: the notify list and Changed-By (allowed), as
        # mini-buildd does for an unknown repository
        future = self.pool.submit(self.attach)
        time.sleep(0.3)
        self.put_changes("mailone", f"{codename}-norepo-unstable", "1.0",
                         "Dev One <dev@example.org>", "Maint <maint@example.org>")
        status, _, body, _ = future.result(timeout=30)
        event = json.loads(body)
        self.assertEqual((event["type"], event["source"]), ("REJECTED", "mailone"))
        [mail] = self.wait_mails(maildir, 1)
        self.assertEqual(mail["From"], "mbd@build.example.org")
        self.assertEqual(mail["To"], "admin@example.org, dev@example.org")
        self.assertEqual(mail["Subject"],
                         f"[mbd-evtest] REJECTED: mailone 1.0 ({codename}-norepo-unstable)")
        self.assertEqual(mail["Auto-Submitted"], "auto-generated")
        self.assertIsNotNone(mail["Date"])
        text = mail.get_content()
        self.assertIn("Reason:       ", text)
        self.assertIn("  dev@example.org: the upload's Changed-By\n", text)
        self.assertIn(json.dumps(event["extra"]["error"]["detail"])[1:-1], text)

        # repository test: its list (ADMIN@ is admin@ again), the allowed Maintainer; the
        # Changed-By outside allow-emails-to is not mailed
        self.put_changes("mailtwo", f"{codename}-test-unstable", "1.0",
                         "Outsider <someone@elsewhere.net>", "Maint <maint@example.org>")
        mails = self.wait_mails(maildir, 2)
        second = [m for m in mails if "mailtwo" in m["Subject"]]
        self.assertEqual(len(second), 1, [m["Subject"] for m in mails])
        self.assertEqual(second[0]["To"],
                         "admin@example.org, team@example.org, maint@example.org")
        self.assertTrue(second[0]["Subject"].startswith("[mbd-evtest] REJECTED: mailtwo 1.0"))

        # a sendmail that fails: logged by the server, the event goes out all the same
        run_mbd("mail", "set", "sendmail", self.sendmail_stand_in(
            "echo 'relay refused' >&2; exit 75"), home=self.home)
        future = self.pool.submit(self.attach)
        time.sleep(0.3)
        self.reject("mailthree")
        status, _, body, _ = future.result(timeout=30)
        self.assertEqual(json.loads(body)["source"], "mailthree")
        time.sleep(1)
        _, log = self.server.stop()
        self.assertIn("exited with status 75: relay refused", log)
        self.assertEqual(len(self.wait_mails(maildir, 2)), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
