# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server's static delivery of /repositories/<id>/: GET and HEAD, single byte ranges (206,
416), If-Modified-Since (304), If-Range, Last-Modified, Content-Length, content types, directories
(404), no way out of the tree (dot segments, encoded dots and slashes, symbolic links, hidden
files), streaming of large files with bounded memory while other requests are still answered.

The tree is made by hand here, independent of the repository code that publishes real ones (as
repository "static": the instance's own repository "test" is published by the server's start)."""

import email.utils
import hashlib
import json
import http.client
import os
import shutil
import socket
import tempfile
import time
import unittest

from mbdtestlib import Server, kill_agent, run_mbd

RELEASE = b"Origin: mbd-test\nSuite: bookworm-test-unstable\n"
SECRET = b"SECRET-OUTSIDE-THE-TREE\n"
BIG_SIZE = 200 * 1024 * 1024


def http_date(timestamp):
    return email.utils.formatdate(timestamp, usegmt=True)


class RepositoryServerTest(unittest.TestCase):
    """One instance and server for all tests: they only read."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        cls.home = os.path.join(cls.tmp, "home")
        run_mbd("init", "--identity", "srvrepo", "--key-type", "ed25519", home=cls.home)
        cls.root = os.path.join(cls.home, "repositories", "static")
        cls.files = {}
        cls.make_tree()
        # ASan (tests/run's clang build) keeps freed memory in a quarantine of up to 256 MB,
        # which the streaming memory bound would count; no quarantine for this server (the
        # option means nothing to a build without ASan)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=0"]))
        cls.server = Server(cls.home, env=env)

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.stop()
        kill_agent(cls.home)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def put(cls, relative, data):
        path = os.path.join(cls.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        cls.files[relative] = data
        return path

    @classmethod
    def make_tree(cls):
        dist = "dists/bookworm-test-unstable"
        cls.put(f"{dist}/Release", RELEASE)
        cls.put(f"{dist}/InRelease", b"-----BEGIN PGP SIGNED MESSAGE-----\n" + RELEASE)
        cls.put(f"{dist}/Release.gpg", b"-----BEGIN PGP SIGNATURE-----\n")
        cls.put(f"{dist}/main/binary-amd64/Packages", b"Package: hello\n")
        cls.put(f"{dist}/main/binary-amd64/Packages.gz", b"\x1f\x8b\x08\x00rest")
        cls.put(f"{dist}/main/binary-amd64/Packages.xz", b"\xfd7zXZ\x00rest")
        cls.put(f"{dist}/main/source/Sources", b"Package: hello\n")
        cls.put(f"{dist}/main/binary-amd64/by-hash/SHA256/" + "a" * 64, b"\x1f\x8b\x08\x00gz")
        cls.put(f"{dist}/main/binary-amd64/by-hash/SHA256/" + "b" * 64, b"\xfd7zXZ\x00xz")
        cls.put(f"{dist}/main/binary-amd64/by-hash/SHA256/" + "c" * 64, b"Package: h\xc3\xa9llo\n")
        cls.put(f"{dist}/main/binary-amd64/by-hash/SHA256/" + "d" * 64, b"\x00\x01\x02binary")
        pool = "pool/main/h/hello"
        cls.put(f"{pool}/hello_1.0_amd64.deb", b"!<arch>\ndebian-binary")
        cls.put(f"{pool}/hello_1.0.dsc", b"Format: 3.0 (native)\n")
        cls.put(f"{pool}/hello_1.0.tar.xz", b"\xfd7zXZ\x00tar")
        cls.put(f"{pool}/hello_1.0_amd64.changes", b"Format: 1.8\n")
        cls.put(f"{pool}/hello_1.0_amd64.buildinfo", b"Format: 1.0\n")
        cls.put("data.bin", bytes(range(256)) * 40)  # 10240 bytes, every offset distinct mod 256
        cls.put("empty", b"")
        # a dot file as a publisher's temporary would be
        cls.put(f"{dist}/.Release.new", b"in progress")
        # a large sparse file: streamed, never held in memory
        big = os.path.join(cls.root, "pool/main/b/big/big_1_all.deb")
        os.makedirs(os.path.dirname(big))
        with open(big, "wb") as f:
            f.truncate(BIG_SIZE)
        # things outside the tree and links that try to reach them
        with open(os.path.join(cls.tmp, "secret"), "wb") as f:
            f.write(SECRET)
        os.symlink(os.path.join(cls.tmp, "secret"), os.path.join(cls.root, "dists/escape"))
        os.symlink("../../../..", os.path.join(cls.root, "dists/up"))
        os.symlink("bookworm-test-unstable", os.path.join(cls.root, "dists/unstable"))
        os.mkfifo(os.path.join(cls.root, "fifo"))

    def request(self, path, method="GET", headers=None):
        """Sends @path as is (no normalisation); returns (response, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def url(self, relative):
        return "/repositories/static/" + relative

    def mtime(self, relative):
        return int(os.stat(os.path.join(self.root, relative)).st_mtime)

    # -- plain GET and HEAD -----------------------------------------------------------------

    def test_get(self):
        relative = "dists/bookworm-test-unstable/Release"
        response, body = self.request(self.url(relative))
        self.assertEqual(response.status, 200)
        self.assertEqual(body, RELEASE)
        self.assertEqual(response.getheader("Content-Type"), "text/plain")
        self.assertEqual(response.getheader("Content-Length"), str(len(RELEASE)))
        self.assertEqual(response.getheader("Last-Modified"), http_date(self.mtime(relative)))
        self.assertEqual(response.getheader("Accept-Ranges"), "bytes")

    def test_get_every_file(self):
        for relative, data in self.files.items():
            if "/." in relative:
                continue
            with self.subTest(relative=relative):
                response, body = self.request(self.url(relative))
                self.assertEqual(response.status, 200)
                self.assertEqual(body, data)
                self.assertEqual(int(response.getheader("Content-Length")), len(data))

    def test_link_inside_followed(self):
        response, body = self.request(self.url("dists/unstable/Release"))
        self.assertEqual(response.status, 200)
        self.assertEqual(body, RELEASE)

    def test_head(self):
        relative = "pool/main/h/hello/hello_1.0_amd64.deb"
        response, body = self.request(self.url(relative), method="HEAD")
        self.assertEqual(response.status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(response.getheader("Content-Length"), str(len(self.files[relative])))
        self.assertEqual(response.getheader("Content-Type"),
                         "application/vnd.debian.binary-package")
        self.assertEqual(response.getheader("Last-Modified"), http_date(self.mtime(relative)))
        response, body = self.request(self.url("pool/main/b/big/big_1_all.deb"), method="HEAD")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Length"), str(BIG_SIZE))
        self.assertEqual(body, b"")
        # a range on HEAD is ignored (ranges are defined for GET only)
        response, _ = self.request(self.url("data.bin"), method="HEAD",
                                   headers={"Range": "bytes=0-9"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Length"), "10240")
        response, body = self.request(self.url("nothing"), method="HEAD")
        self.assertEqual(response.status, 404)
        self.assertEqual(body, b"")

    def test_empty_file(self):
        response, body = self.request(self.url("empty"))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Length"), "0")
        self.assertEqual(body, b"")

    def test_content_types(self):
        dist = "dists/bookworm-test-unstable"
        expected = {
            f"{dist}/Release": "text/plain",
            f"{dist}/InRelease": "text/plain",
            f"{dist}/Release.gpg": "application/pgp-signature",
            f"{dist}/main/binary-amd64/Packages": "text/plain",
            f"{dist}/main/binary-amd64/Packages.gz": "application/gzip",
            f"{dist}/main/binary-amd64/Packages.xz": "application/x-xz",
            f"{dist}/main/source/Sources": "text/plain",
            f"{dist}/main/binary-amd64/by-hash/SHA256/" + "a" * 64: "application/gzip",
            f"{dist}/main/binary-amd64/by-hash/SHA256/" + "b" * 64: "application/x-xz",
            f"{dist}/main/binary-amd64/by-hash/SHA256/" + "c" * 64: "text/plain",
            f"{dist}/main/binary-amd64/by-hash/SHA256/" + "d" * 64: "application/octet-stream",
            "pool/main/h/hello/hello_1.0_amd64.deb": "application/vnd.debian.binary-package",
            "pool/main/h/hello/hello_1.0.dsc": "text/prs.lines.tag",
            "pool/main/h/hello/hello_1.0.tar.xz": "application/x-xz",
            "pool/main/h/hello/hello_1.0_amd64.changes": "text/plain",
            "pool/main/h/hello/hello_1.0_amd64.buildinfo": "text/plain",
        }
        for relative, ctype in expected.items():
            with self.subTest(relative=relative):
                response, _ = self.request(self.url(relative), method="HEAD")
                self.assertEqual(response.status, 200)
                self.assertEqual(response.getheader("Content-Type"), ctype)

    # -- ranges -----------------------------------------------------------------------------

    def test_ranges(self):
        data = self.files["data.bin"]
        size = len(data)
        cases = [
            ("bytes=10-19", 10, 19),
            ("bytes=0-0", 0, 0),
            ("bytes=10000-", 10000, size - 1),
            ("bytes=-5", size - 5, size - 1),
            ("bytes=-99999", 0, size - 1),
            ("bytes=10200-99999", 10200, size - 1),
            ("bytes=%d-%d" % (size - 1, size - 1), size - 1, size - 1),
            ("BYTES = 1-2".replace(" = ", "="), 1, 2),
        ]
        for value, first, last in cases:
            with self.subTest(range=value):
                response, body = self.request(self.url("data.bin"), headers={"Range": value})
                self.assertEqual(response.status, 206)
                self.assertEqual(response.getheader("Content-Range"),
                                 f"bytes {first}-{last}/{size}")
                self.assertEqual(int(response.getheader("Content-Length")), last - first + 1)
                self.assertEqual(body, data[first:last + 1])

    def test_range_not_satisfiable(self):
        size = len(self.files["data.bin"])
        for value in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
            with self.subTest(range=value):
                response, body = self.request(self.url("data.bin"), headers={"Range": value})
                self.assertEqual(response.status, 416)
                self.assertEqual(response.getheader("Content-Range"), f"bytes */{size}")
                self.assertIn(value.encode(), body)
        response, _ = self.request(self.url("empty"), headers={"Range": "bytes=0-"})
        self.assertEqual(response.status, 416)
        self.assertEqual(response.getheader("Content-Range"), "bytes */0")

    def test_range_ignored(self):
        """Several ranges, other units and bad syntax get the whole file (RFC 9110 14.2)."""
        data = self.files["data.bin"]
        for value in ("bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=-",
                      "bytes=1", "0-1"):
            with self.subTest(range=value):
                response, body = self.request(self.url("data.bin"), headers={"Range": value})
                self.assertEqual(response.status, 200)
                self.assertIsNone(response.getheader("Content-Range"))
                self.assertEqual(body, data)

    def test_if_range(self):
        data = self.files["data.bin"]
        current = http_date(self.mtime("data.bin"))
        older = http_date(self.mtime("data.bin") - 3600)
        response, body = self.request(self.url("data.bin"),
                                      headers={"Range": "bytes=100-", "If-Range": current})
        self.assertEqual(response.status, 206)
        self.assertEqual(body, data[100:])
        for validator in (older, '"some-etag"', "garbage"):
            with self.subTest(if_range=validator):
                response, body = self.request(self.url("data.bin"),
                                              headers={"Range": "bytes=100-",
                                                       "If-Range": validator})
                self.assertEqual(response.status, 200)
                self.assertEqual(body, data)

    # -- conditional requests ---------------------------------------------------------------

    def test_if_modified_since(self):
        relative = "dists/bookworm-test-unstable/Release"
        mtime = self.mtime(relative)
        for since, status in ((mtime, 304), (mtime + 3600, 304), (mtime - 1, 200)):
            for method in ("GET", "HEAD"):
                with self.subTest(since=since - mtime, method=method):
                    response, body = self.request(self.url(relative), method=method,
                                                  headers={"If-Modified-Since": http_date(since)})
                    self.assertEqual(response.status, status)
                    self.assertEqual(response.getheader("Last-Modified"), http_date(mtime))
                    if status == 304 or method == "HEAD":
                        self.assertEqual(body, b"")
                    else:
                        self.assertEqual(body, RELEASE)
        response, body = self.request(self.url(relative),
                                      headers={"If-Modified-Since": "not a date"})
        self.assertEqual(response.status, 200)
        self.assertEqual(body, RELEASE)
        # If-Modified-Since is evaluated before Range
        response, body = self.request(self.url(relative),
                                      headers={"If-Modified-Since": http_date(mtime),
                                               "Range": "bytes=0-1"})
        self.assertEqual(response.status, 304)

    # -- what is not served -----------------------------------------------------------------

    def test_directories_not_listed(self):
        for path in ("/repositories", "/repositories/", "/repositories/static",
                     "/repositories/static/", "/repositories/static/dists",
                     "/repositories/static/dists/", "/repositories/static/dists/unstable/",
                     "/repositories/nosuchrepo/dists/", "/repositoriesX/test/data.bin"):
            with self.subTest(path=path):
                response, body = self.request(path)
                self.assertEqual(response.status, 404)
                self.assertEqual(response.getheader("Content-Type"), "application/problem+json")

    def test_missing(self):
        response, body = self.request(self.url("dists/sid/Release"))
        self.assertEqual(response.status, 404)
        self.assertIn(b"dists/sid/Release", body)
        response, _ = self.request(self.url("fifo"))
        self.assertEqual(response.status, 404)

    def test_problem_details_are_utf8(self):
        """Request paths that are not UTF-8 are quoted in valid JSON."""
        os.makedirs(os.path.join(self.root.encode(), b"d\xff"), exist_ok=True)
        for path in ("/repositories/static/%ff", "/repositories/%ff/x", "/repositories/static/d%ff",
                     "/nothing%ff"):
            with self.subTest(path=path):
                response, body = self.request(path)
                self.assertEqual(response.status, 404)
                problem = json.loads(body.decode("utf-8"))
                self.assertIn("\ufffd", problem["detail"])

    def test_methods(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            with self.subTest(method=method):
                response, _ = self.request(self.url("data.bin"), method=method)
                self.assertEqual(response.status, 405)
                self.assertEqual(response.getheader("Allow"), "GET, HEAD")

    def test_no_escape(self):
        """Nothing outside <home>/repositories/static is reachable, however the path is spelled."""
        attempts = [
            "/repositories/static/../../mbd.sqlite",
            "/repositories/static/../../../secret",
            "/repositories/static/%2e%2e/%2e%2e/mbd.sqlite",
            "/repositories/static/%2E%2E/%2E%2E/%2E%2E/secret",
            "/repositories/static/..%2f..%2fmbd.sqlite",
            "/repositories/static/..%2F..%2F..%2Fsecret",
            "/repositories/static/dists%2f..%2f..%2f..%2f..%2fsecret",
            "/repositories/static%2f..%2f..%2f../secret",
            "/repositories/..%2fhome/mbd.sqlite",
            "/repositories/%2e%2e/mbd.sqlite",
            "/repositories/static/.%2e/.%2e/.%2e/secret",
            "/repositories/static/dists/escape",
            "/repositories/static/dists/up/secret",
            "/repositories/static/dists/up/home/mbd.sqlite",
            "/repositories/static/dists/bookworm-test-unstable/.Release.new",
            "/repositories/static/%2fetc%2fpasswd",
            "/repositories/static//etc/passwd",
            "/repositories/static/a%00b",
            "/repositories/static/dists/..%5c..%5cmbd.sqlite",
            "//repositories/static/../../../../etc/passwd",
            "http://127.0.0.1/repositories/static/../../mbd.sqlite",
        ]
        with open(os.path.join(self.home, "mbd.sqlite"), "rb") as f:
            database = f.read(16)
        for path in attempts:
            for method in ("GET", "HEAD"):
                with self.subTest(path=path, method=method):
                    response, body = self.request(path, method=method)
                    self.assertIn(response.status, (400, 403, 404), body)
                    self.assertNotIn(SECRET, body)
                    self.assertNotIn(database, body)
                    self.assertNotIn(b"root:", body)
        # the links that leave the tree are refused as such
        for relative in ("dists/escape", "dists/up/secret"):
            response, body = self.request(self.url(relative))
            self.assertEqual(response.status, 403)
            self.assertIn(b"leads outside", body)
        response, _ = self.request(self.url("dists/bookworm-test-unstable/.Release.new"))
        self.assertEqual(response.status, 403)

    # -- streaming --------------------------------------------------------------------------

    def server_memory_kib(self):
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc status")

    def test_large_file_streamed(self):
        """200 MiB go out complete and right while the server's peak memory stays far below."""
        before = self.server_memory_kib()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        conn.request("GET", self.url("pool/main/b/big/big_1_all.deb"))
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Length"), str(BIG_SIZE))
        digest = hashlib.sha256()
        received = 0
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            received += len(chunk)
            digest.update(chunk)
        conn.close()
        self.assertEqual(received, BIG_SIZE)
        zeros = hashlib.sha256()
        block = bytes(1 << 20)
        for _ in range(BIG_SIZE >> 20):
            zeros.update(block)
        self.assertEqual(digest.hexdigest(), zeros.hexdigest())
        peak = self.server_memory_kib()
        self.assertLess(peak - before, 32 * 1024, f"peak RSS grew from {before} to {peak} KiB")

    def test_large_range(self):
        start = BIG_SIZE - 3 * 1024 * 1024 - 7
        response, body = self.request(self.url("pool/main/b/big/big_1_all.deb"),
                                      headers={"Range": f"bytes={start}-"})
        self.assertEqual(response.status, 206)
        self.assertEqual(len(body), BIG_SIZE - start)
        self.assertEqual(response.getheader("Content-Range"),
                         f"bytes {start}-{BIG_SIZE - 1}/{BIG_SIZE}")

    def test_slow_and_vanishing_clients(self):
        """A client that stops reading a large file does not hold up anyone else, and one that
        goes away mid-transfer leaves no open file behind."""
        baseline = self.server.open_fds()
        stalled = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
            sock.sendall(b"GET " + self.url("pool/main/b/big/big_1_all.deb").encode()
                         + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 200"))
            stalled.append(sock)
        # the stalled transfers have filled their socket buffers; others are still answered
        start = time.monotonic()
        for _ in range(20):
            response, body = self.request(self.url("dists/bookworm-test-unstable/Release"))
            self.assertEqual(response.status, 200)
            self.assertEqual(body, RELEASE)
        status, _, _ = self.server.get("/mini_buildd/api/status/?output=json")
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - start, 10)
        for sock in stalled:
            sock.close()
        # clients that go away at once, while their file is still being looked up or opened
        # (a small burst: mbd-server listens with GLib's default backlog of 10)
        for i in range(30):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
            path = self.url("pool/main/b/big/big_1_all.deb" if i % 2 else "data.bin")
            sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.close()
        deadline = time.monotonic() + 10
        while self.server.open_fds() > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(self.server.open_fds(), baseline, self.server.fd_targets())
        self.assertIsNone(self.server.proc.poll())

    def test_closed_connections_released(self):
        """Connections that clients close are released (libsoup 3.2 keeps idle ones otherwise)."""
        baseline = self.server.open_fds()
        for _ in range(30):
            response, body = self.request(self.url("data.bin"))
            self.assertEqual(response.status, 200)
        deadline = time.monotonic() + 10
        while self.server.open_fds() > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(self.server.open_fds(), baseline, self.server.fd_targets())

    def test_sequential_requests(self):
        """Requests one after the other on a client that reconnects when told to close."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            for relative in ("dists/bookworm-test-unstable/Release", "data.bin", "empty",
                             "nothing", "data.bin"):
                conn.request("GET", self.url(relative))
                response = conn.getresponse()
                body = response.read()
                if relative == "nothing":
                    self.assertEqual(response.status, 404)
                else:
                    self.assertEqual(response.status, 200)
                    self.assertEqual(body, self.files[relative])
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
