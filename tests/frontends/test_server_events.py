# SPDX-License-Identifier: LGPL-2.1-or-later
"""Following the event log of a real mbd-server: mini-buildd's long-poll
GET /static/events.attach[?after=] (one event per request, 204 after --events-timeout, 400 for a
bad `after`, 503 beyond --events-max-clients, a hung-up client's place freed) and Server-Sent
Events on GET /events (id/event/data, keep-alive comments, resuming with Last-Event-ID).

Events come from uploads the packager rejects at once: garbage PUT as a .changes (no chroot,
no build)."""

import concurrent.futures
import http.client
import json
import socket
import time
import unittest
import urllib.parse

from mbdtestlib import HomeTestCase, Server, run_mbd

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

    def read_event(self, response):
        while True:
            fields, _ = self.read_message(response)
            if "data" in fields:
                return fields

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

        conn, response = self.open_stream({"Last-Event-ID": one["id"]})
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
