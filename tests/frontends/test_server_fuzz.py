# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server under hostile HTTP input (issue 6, acceptance point 6), bounded in count and time:
malformed request lines, invalid methods, huge headers (> 64 KiB, > 1 MiB) and many headers,
bad percent-encoding and query strings on the API and /repositories/, absurd Content-Length,
truncated bodies, slowloris clients (one header byte per second) while a normal client must
still be answered within 2 s, idle connections that send nothing, and a few thousand requests
from a seeded generator. After each part the server is alive and answers status; at the end
its number of open descriptors is back near the start (no leak).

A complete request must get an answer (never 5xx for bad input) or a closed connection within
a few seconds; the server must never need more than that to answer someone else."""

import concurrent.futures
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import unittest

from mbdtestlib import Server, kill_agent, run_mbd

STATUS = b"GET /mini_buildd/api/status/?output=json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
ANSWER_TIMEOUT = 5.0
# the 5xx answers that are right for bad input: a method or HTTP version the server does not
# implement; 503 only where the long-poll limit gives it
RIGHT_5XX = (501, 505)
# what the server allows (doc/mbd-server.1.rst) and the test checks
IDLE_TIMEOUT = 4
MAX_BODY = 1024 * 1024


class FuzzTest(unittest.TestCase):

    """One server for all parts (each part checks that it is alive and leaks nothing)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        cls.home = os.path.join(cls.tmp, "home")
        run_mbd("init", "--identity", "fuzz", "--key-type", "ed25519", home=cls.home)
        # ASan (tests/run's clang build) keeps freed memory in a quarantine of up to 256 MB,
        # which the memory bound of the large body would count: no quarantine
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=0"]))
        cls.server = Server(cls.home, env=env,
                            extra_args=["--idle-timeout", str(IDLE_TIMEOUT),
                                        "--max-request-body", str(MAX_BODY)])
        cls.release_path = None
        for dirpath, _, files in os.walk(os.path.join(cls.home, "repositories")):
            if "Release" in files:
                rel = os.path.relpath(os.path.join(dirpath, "Release"), cls.home)
                cls.release_path = "/" + rel
                break
        time.sleep(0.5)
        cls.fds_start = cls.server.open_fds()

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server.proc.poll() is None:
                code, err = cls.server.stop()
                if code != 0:
                    raise AssertionError(f"mbd-server exited {code}: {err}")
        finally:
            kill_agent(cls.home)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertIsNotNone(self.release_path, "the server published no Release")

    # -- helpers ----------------------------------------------------------------------------

    def fds(self):
        return self.server.open_fds()

    def connect(self, timeout=ANSWER_TIMEOUT):
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)

    def exchange(self, payload, close_write=False, timeout=ANSWER_TIMEOUT):
        """Sends @payload and reads until the server closes or @timeout passes. Returns (status
        code or None, whole answer, seconds). A reset or a refused send counts as closed."""
        start = time.monotonic()
        data = b""
        with self.connect(timeout) as s:
            try:
                s.sendall(payload)
                if close_write:
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:  # the server answered and closed already
                        pass
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if time.monotonic() - start > timeout:
                        break
            except (ConnectionResetError, BrokenPipeError):
                pass
            except socket.timeout:
                self.fail(f"no answer and no close within {timeout} s for {payload[:120]!r}"
                          f" (got {data[:200]!r})")
        code = None
        if data.startswith(b"HTTP/1."):
            code = int(data.split(b" ", 2)[1])
        return code, data, time.monotonic() - start

    def assert_not_server_error(self, payload, close_write=False):
        code, data, _ = self.exchange(payload, close_write=close_write)
        if code is not None and code not in RIGHT_5XX:
            self.assertLess(code, 500, f"{payload[:200]!r} got {data[:400]!r}")
        return code

    def assert_alive(self, within=2.0):
        self.assertIsNone(self.server.proc.poll(), "mbd-server exited")
        start = time.monotonic()
        code, data, _ = self.exchange(STATUS, timeout=within + 1)
        took = time.monotonic() - start
        self.assertEqual(code, 200, data[:300])
        self.assertLess(took, within, f"status took {took:.2f} s")

    def assert_fds_back(self, slack=4, seconds=10):
        deadline = time.monotonic() + seconds
        while self.fds() > self.fds_start + slack and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertLessEqual(self.fds(), self.fds_start + slack,
                             f"{self.fds()} descriptors open, {self.fds_start} at the start: "
                             f"{self.server.fd_targets()}")

    # -- the parts --------------------------------------------------------------------------

    def test_malformed_request_lines(self):
        cases = [
            b"\r\n\r\n", b"GET\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n", b"GET /\x00x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"G\xffT / HTTP/1.1\r\nHost: a\r\n\r\n", b" GET / HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\n\n", b"GET / HTTP/1.1\r\r\r\r",
            b"HTTP/1.1 200 OK\r\n\r\n", b"GET http://x/ HTTP/1.1\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", b"GET mini_buildd HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", b"GET / HTTP/1.1\r\n: empty\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", b"GET / HTTP/1.1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n",
            b"GET /mini_buildd/api/status/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n",
            b"GET /mini_buildd/api/status/?" + b"a=1&" * 50000 + b" HTTP/1.1\r\n\r\n",
            os.urandom(2000), bytes(range(256)) * 8, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ]
        for payload in cases:
            with self.subTest(payload=payload[:60]):
                self.assert_not_server_error(payload, close_write=True)
        self.assert_alive()
        self.assert_fds_back()

    def test_invalid_methods(self):
        paths = ["/mini_buildd/api/status/", "/mini_buildd/api/retry/?bkey=x",
                 self.release_path, "/upload/x.changes", "/events", "/static/events.attach"]
        for method in (b"FOO", b"get", b"CONNECT", b"TRACE", b"PROPFIND", b"DELETE", b"PATCH",
                       b"OPTIONS", b"\x01\x02", b"G" * 5000):
            for path in paths:
                with self.subTest(method=method[:20], path=path):
                    code = self.assert_not_server_error(
                        method + b" " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n"
                        b"Content-Length: 0\r\n\r\n")
                    if code is not None:
                        self.assertGreaterEqual(code, 400)
        self.assert_alive()
        self.assert_fds_back()

    def test_huge_and_many_headers(self):
        for size in (70 * 1024, 1536 * 1024):
            for where in (b"X-Big: " + b"a" * size + b"\r\n",
                          b"Cookie: " + b"b=c; " * (size // 5) + b"\r\n"):
                with self.subTest(size=size, header=where[:6]):
                    code = self.assert_not_server_error(
                        b"GET /mini_buildd/api/status/ HTTP/1.1\r\nHost: a\r\n" + where + b"\r\n")
                    if size > 1024 * 1024:
                        self.assertNotEqual(code, 200, "a 1.5 MiB header was accepted")
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(20000))
        self.assert_not_server_error(b"GET /mini_buildd/api/status/ HTTP/1.1\r\n" + many + b"\r\n")
        self.assert_alive()
        self.assert_fds_back()

    def test_bad_encoding_and_queries(self):
        queries = ["%", "%zz", "%%", "%0", "%00", "output=%ff%fe", "output=json&output=html",
                   "&&&===&", "=", "a=%E2%82", "bkey=%00%01", "output=" + "x" * 60000,
                   "source=../../etc/passwd", "source=%2e%2e%2f", "dput_ng_profile=%",
                   "confirm=retry&bkey=%ff", "\x7f", "a=b;c=d", "a[]=1&a[]=2"]
        calls = ["status", "dput_conf", "retry", "cancel", "port", "port_ext", "keyring_packages",
                 "ls", "show", "sources_list", "pub_key", "snapshot_ls", "migrate", "remove",
                 "nosuchcall", "%73tatus", "status%2f", "..%2fstatus"]
        for call in calls:
            for query in queries:
                with self.subTest(call=call, query=query[:30]):
                    self.assert_not_server_error(
                        f"GET /mini_buildd/api/{call}/?{query} HTTP/1.1\r\nHost: a\r\n\r\n"
                        .encode("latin-1"))
        repo = os.path.dirname(self.release_path)
        for suffix in ["%", "%zz", "%00", "%2e%2e/%2e%2e/", "..%2f..%2f", "%ff%fe", "?%", "?a=%zz",
                       "/Release?x=" + "y" * 60000, "/%2fetc%2fpasswd", "/\\..\\..\\",
                       "/" + "d/" * 5000]:
            with self.subTest(path=suffix[:30]):
                self.assert_not_server_error(
                    f"GET {repo}{suffix} HTTP/1.1\r\nHost: a\r\n\r\n".encode("latin-1"))
        self.assert_alive()
        self.assert_fds_back()

    def test_absurd_content_length_and_truncated_bodies(self):
        for path in ("/mini_buildd/api/status/", self.release_path, "/nothing",
                     "/mini_buildd/api/retry/"):
            for length in (b"99999999999999999999", b"-1", b"1e9", b"0x10", b"1, 2",
                           str(50 * 1024 * 1024 * 1024).encode()):
                with self.subTest(path=path, length=length):
                    self.assert_not_server_error(
                        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: a\r\nContent-Length: "
                        + length + b"\r\n\r\n" + b"x" * 4096, close_write=True)
            # truncated: announces 100000 bytes, sends 10, closes
            with self.subTest(path=path, truncated=True):
                self.exchange(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n"
                              b"Content-Length: 100000\r\n\r\n0123456789", close_write=True)
            with self.subTest(path=path, chunked="bad"):
                self.assert_not_server_error(
                    b"POST " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n", close_write=True)
        # a body larger than any API call takes, sent in full: refused, not held in memory
        self.assert_alive()
        rss_start = self.rss()
        body = b"y" * (8 * MAX_BODY)
        with self.connect(10) as s:
            s.sendall(b"POST /mini_buildd/api/status/ HTTP/1.1\r\nHost: a\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            try:
                s.sendall(body)
            except (ConnectionResetError, BrokenPipeError):
                pass
            try:
                answer = s.recv(4096)
            except ConnectionResetError:
                answer = b""
        if answer:
            self.assertRegex(answer, rb"^HTTP/1\.1 (413|400|405)")
        self.assertLess(self.rss() - rss_start, 4 * MAX_BODY, "the body was held in memory")
        self.assert_alive()
        self.assert_fds_back()

    def rss(self):
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def test_slowloris_and_idle_clients(self):
        """40 clients send one header byte per second and 20 send nothing; meanwhile status is
        answered within 2 s every time; the idle timeout (--idle-timeout) then ends all of
        them, the dripping ones included."""
        slow = [self.connect(30) for _ in range(40)]
        idle = [self.connect(30) for _ in range(20)]
        header = b"GET /mini_buildd/api/status/ HTTP/1.1\r\nX-Slow: " + b"z" * 200
        stop = threading.Event()
        closed = [0]

        def drip():
            for i in range(len(header)):
                if stop.is_set():
                    return
                for s in list(slow):
                    try:
                        s.send(header[i:i + 1])
                    except OSError:
                        slow.remove(s)
                        s.close()
                        closed[0] += 1
                time.sleep(1)

        dripper = threading.Thread(target=drip)
        dripper.start()
        try:
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                self.assert_alive(within=2.0)
                time.sleep(0.3)
            # the idle ones are closed by the server after IDLE_TIMEOUT
            time.sleep(IDLE_TIMEOUT + 1)
            for s in idle:
                s.settimeout(3)
                try:
                    self.assertEqual(s.recv(100), b"", "an idle connection got data")
                except ConnectionResetError:
                    pass
        finally:
            stop.set()
            dripper.join()
            for s in slow + idle:
                s.close()
        # 11 s of dripping: the deadline took every one of them off
        self.assertEqual(closed[0], 40, "slowloris clients kept their connections")
        self.assert_alive()
        self.assert_fds_back()

    def test_random_requests(self):
        """3000 requests of random pieces from a seeded generator, 8 at a time."""
        rng = random.Random(6)
        methods = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"XYZ", b"", b"GET GET"]
        paths = [b"/mini_buildd/api/status/", b"/mini_buildd/api/dput_conf/",
                 b"/mini_buildd/api/retry/", b"/mini_buildd/api/", b"/upload/",
                 self.release_path.encode(), os.path.dirname(self.release_path).encode() + b"/",
                 b"/repositories/", b"/static/events.attach", b"/", b"//", b"/%", b"/..", b"*"]
        pieces = [b"%", b"%2e", b"%00", b"?", b"&", b"=", b"..", b"/", b"\xff", b"a", b"output=json",
                  b"bkey=", b"after=", b"confirm=retry", b" ", b"\t", b"%zz", b"#", b";"]
        headers = [b"Host: a", b"Content-Length: 5", b"Content-Length: -5", b"Range: bytes=0-1",
                   b"Range: bytes=9-1", b"Range: x", b"If-Modified-Since: garbage",
                   b"Transfer-Encoding: chunked", b"Expect: 100-continue", b"Connection: close",
                   b"Connection: keep-alive", b"Accept: */*", b"X: \x00", b"Bad Header",
                   b"Cookie: csrftoken=" + b"c" * 100]

        def one(i):
            r = random.Random(rng_seeds[i])
            target = r.choice(paths) + b"".join(r.choice(pieces) for _ in range(r.randrange(6)))
            if r.random() < 0.2:
                target += os.urandom(r.randrange(1, 30))
            lines = [r.choice(methods) + b" " + target + b" " + r.choice(
                [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"", b"HTTP/1.1 x"])]
            lines += [r.choice(headers) for _ in range(r.randrange(5))]
            payload = b"\r\n".join(lines) + b"\r\n\r\n" + b"body!" * r.randrange(3)
            try:
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
                    s.sendall(payload)
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:  # the server answered and closed already
                        pass
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
            except (ConnectionResetError, BrokenPipeError):
                return None, payload
            except socket.timeout:
                return "timeout", payload
            if data.startswith(b"HTTP/1."):
                return int(data.split(b" ", 2)[1]), payload
            return None, payload

        rng_seeds = [rng.getrandbits(32) for _ in range(3000)]
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(len(rng_seeds))))
        took = time.monotonic() - start
        timeouts = [p for code, p in results if code == "timeout"]
        errors = [(code, p) for code, p in results
                  if isinstance(code, int) and code >= 500 and code not in RIGHT_5XX
                  and not (code == 503 and b"/static/events.attach" in p)]
        self.assertEqual(timeouts, [], "requests neither answered nor closed in 10 s")
        self.assertEqual(errors, [], "server errors for bad input")
        self.assertLess(took, 40)
        self.assert_alive()
        self.assert_fds_back()


if __name__ == "__main__":
    unittest.main(verbosity=2)
