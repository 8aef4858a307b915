# SPDX-License-Identifier: LGPL-2.1-or-later
"""Uploads into mbd-server: Debian's real dput (http method, configured from the dput_conf call)
uploads a source package built at test time and the upload arrives complete at the packager;
unsafe names, files and uploads over the size limits, garbage .changes, incomplete uploads
(removed after the timeout) and a stalled PUT that must not block other uploads.

The packages go to a distribution of a repository that does not exist, so that the packager
rejects them at once (no chroot, no build): its REJECTED event shows that the upload reached it."""

import concurrent.futures
import glob
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import unittest

import pkgfixtures
from mbdtestlib import HomeTestCase, Server, run_mbd

IDENTITY = "uptest"
TARGET = f"mini-buildd-{IDENTITY}"


class UploadTest(HomeTestCase):
    server_args = ()

    def setUp(self):
        super().setUp()
        run_mbd("init", "--identity", IDENTITY, "--key-type", "ed25519", home=self.home)
        # ASan (tests/run's clang build) keeps freed memory in a quarantine of up to 256 MB,
        # which test_body_streamed_not_buffered's memory bound would count; no quarantine (the
        # option means nothing to a build without ASan)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=0"]))
        self.server = Server(self.home, extra_args=self.server_args, env=env)
        self.incoming = os.path.join(self.home, "incoming")
        self.factory = pkgfixtures.PackageFactory(os.path.join(self.tmp, "pkgs"))

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.proc.kill()
            self.server.proc.communicate()
        super().tearDown()

    # -- helpers ----------------------------------------------------------------------------

    def make_upload(self, package="hello-up", orig_extra=""):
        """A real 3.0 (quilt) source package and its .changes; returns the .changes path."""
        version = pkgfixtures.layout_version("1.0-1", "test")
        src = self.factory.source(package, version, orig_extra=orig_extra,
                                  outdir=os.path.join(self.tmp, "pkgs", package))
        return self.factory.changes(f"{pkgfixtures.host_codename()}-norepo-unstable",
                                    source=src)

    def events(self):
        found = []
        for path in glob.glob(os.path.join(self.home, "events", "**", "*.json"),
                              recursive=True):
            with open(path) as f:
                found.append(json.load(f))
        return found

    def wait_rejected(self, source, detail_part, seconds=20):
        """The REJECTED event of @source whose reason contains @detail_part."""
        deadline = time.monotonic() + seconds
        while True:
            for event in self.events():
                detail = event.get("extra", {}).get("error", {}).get("detail", "")
                if (event["type"] == "REJECTED" and event["source"] == source
                        and detail_part in detail):
                    return event
            if time.monotonic() > deadline:
                self.fail(f"no REJECTED event of {source} with '{detail_part}': "
                          f"{self.events()}")
            time.sleep(0.1)

    def listed_files(self, changes):
        with open(changes) as f:
            text = f.read()
        files = text.split("\nFiles:\n", 1)[1].split("\n")
        return [line.split()[4] for line in files if line.startswith(" ")]

    def dput_cf(self):
        status, ctype, body = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertEqual(status, 200)
        path = os.path.join(self.tmp, "dput.cf")
        with open(path, "wb") as f:
            f.write(body)
        return path

    def dput(self, changes):
        """Debian's dput with the configuration the server hands out (-u: unsigned is fine
        for the incoming side; signatures are the packager's business)."""
        return subprocess.run(["dput", "-c", self.dput_cf(), "-u", TARGET, changes],
                              capture_output=True, text=True, timeout=120)

    def put(self, path, data, headers=None):
        """(status, headers, body) of an HTTP PUT of @data to @path."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        conn.send(data)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, response.headers, body

    def assert_problem(self, status_body, code, *detail_parts):
        status, headers, body = status_body
        self.assertEqual(status, code, body)
        if not body:  # refused by libsoup itself before any handler ran
            return
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        problem = json.loads(body)
        self.assertEqual(problem["status"], code)
        for part in detail_parts:
            self.assertIn(part, problem["detail"])

    def incoming_entries(self):
        return sorted(os.listdir(self.incoming)) if os.path.isdir(self.incoming) else []

    def wait_incoming_empty(self, seconds):
        deadline = time.monotonic() + seconds
        while self.incoming_entries() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.incoming_entries()

    def stop_log(self):
        code, err = self.server.stop()
        self.assertEqual(code, 0, err)
        return err


class DputConfTest(UploadTest):
    def test_dput_conf(self):
        """dput.cf stanza in mini-buildd's shape with dput's http method at /upload, as a JSON
        string with output=json, and the dput-ng profile with dput_ng_profile=True."""
        status, ctype, plain = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertEqual((status, ctype), (200, "text/plain"))
        expected = (f"[{TARGET}]\nmethod   = http\nfqdn     = 127.0.0.1:{self.server.port}\n"
                    "login    = anonymous\nincoming = /upload\n")
        self.assertEqual(plain.decode(), expected)

        status, ctype, data = self.server.get_json("/mini_buildd/api/dput_conf/?output=json")
        self.assertEqual((status, ctype), (200, "application/json"))
        self.assertEqual(data, expected)

        status, ctype, profile = self.server.get_json(
            "/mini_buildd/api/dput_conf/?dput_ng_profile=True&output=json")
        self.assertEqual((status, ctype), (200, "application/json"))
        self.assertEqual(profile, {"method": "http", "fqdn": f"127.0.0.1:{self.server.port}",
                                   "login": "anonymous", "incoming": "/upload"})

    def test_dput_conf_appends_home_etc(self):
        """As mini-buildd, the home's etc/dput.cf is appended to the stanza."""
        os.makedirs(os.path.join(self.home, "etc"), exist_ok=True)
        with open(os.path.join(self.home, "etc", "dput.cf"), "w") as f:
            f.write("[mini-buildd-uptest-ssh]\nmethod = scp\n")
        _, _, plain = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertTrue(plain.decode().endswith("incoming = /upload\n"
                                                "[mini-buildd-uptest-ssh]\nmethod = scp\n"))


class DputUploadTest(UploadTest):
    def test_dput_upload_arrives_complete(self):
        """Debian's dput uploads every file; the upload is complete and handed to the packager
        once (its check rejects the unknown repository), and nothing stays in incoming/."""
        changes = self.make_upload()
        proc = self.dput(changes)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for name in self.listed_files(changes) + [os.path.basename(changes)]:
            self.assertIn(f"Uploading {name}: done.", proc.stdout)
        event = self.wait_rejected("hello-up", "repository 'norepo' does not exist")
        self.assertEqual(event["version"], pkgfixtures.layout_version("1.0-1", "test"))
        self.assertEqual(len([e for e in self.events() if e["source"] == "hello-up"]), 1)
        self.assertEqual(self.wait_incoming_empty(10), [])
        log = self.stop_log()
        complete = [line for line in log.splitlines() if "upload complete: " in line]
        self.assertEqual(len(complete), 1, log)
        self.assertTrue(complete[0].endswith("/" + os.path.basename(changes)), complete)
        self.assertIn(os.path.join(self.incoming, ".upload-"), complete[0])
        self.assertNotIn("upload refused", log)

    def test_concurrent_uploads(self):
        """12 dput runs at once, two of them revisions sharing one orig tarball: every upload
        reaches the packager exactly once, none is lost, incoming/ ends empty."""
        uploads = [self.make_upload(f"conc{i}") for i in range(10)]
        for revision in ("1.0-1", "1.0-2"):
            version = pkgfixtures.layout_version(revision, "test")
            src = self.factory.source("shared", version,
                                      outdir=os.path.join(self.tmp, "pkgs", "shared" + revision))
            uploads.append(self.factory.changes(
                f"{pkgfixtures.host_codename()}-norepo-unstable", source=src))
        with concurrent.futures.ThreadPoolExecutor(len(uploads)) as pool:
            results = list(pool.map(self.dput, uploads))
        for proc in results:
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for i in range(10):
            self.wait_rejected(f"conc{i}", "repository 'norepo' does not exist")
        for revision in ("1.0-1", "1.0-2"):
            version = pkgfixtures.layout_version(revision, "test")
            deadline = time.monotonic() + 20
            while not any(e["source"] == "shared" and e["version"] == version
                          for e in self.events()) and time.monotonic() < deadline:
                time.sleep(0.1)
        counts = {}
        for event in self.events():
            key = (event["source"], event["version"])
            counts[key] = counts.get(key, 0) + 1
        self.assertEqual(len(counts), 12, counts)
        self.assertEqual(set(counts.values()), {1}, counts)
        self.assertTrue(all(e["type"] == "REJECTED" for e in self.events()))
        self.assertEqual(self.wait_incoming_empty(20), [])

    def test_copied_into_incoming(self):
        """Files copied into the watched incoming/ directory (as scp or sftp would) make an
        upload just like dput's."""
        changes = self.make_upload()
        directory = os.path.dirname(changes)
        for name in self.listed_files(changes) + [os.path.basename(changes)]:
            shutil.copy(os.path.join(directory, name), os.path.join(self.incoming, name))
        self.wait_rejected("hello-up", "repository 'norepo' does not exist")
        self.assertEqual(self.wait_incoming_empty(20), [])
        log = self.stop_log()
        self.assertIn("upload complete: ", log)
        self.assertIn(os.path.basename(changes), log)

    def test_body_streamed_not_buffered(self):
        """A 64 MiB body goes to disk as it arrives: the server's peak memory hardly grows."""
        def peak_kib():
            with open(f"/proc/{self.server.proc.pid}/status") as f:
                return int([line for line in f if line.startswith("VmHWM:")][0].split()[1])

        self.assertEqual(self.put("/upload/warmup_1.0.tar.gz", b"w" * 65536)[0], 201)
        before = peak_kib()
        size = 64 << 20
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        conn.putrequest("PUT", "/upload/big_1.0.orig.tar.gz", skip_accept_encoding=True)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        chunk = b"z" * (1 << 20)
        for _ in range(size // len(chunk)):
            conn.send(chunk)
        response = conn.getresponse()
        self.assertEqual(response.status, 201, response.read())
        conn.close()
        self.assertEqual(os.path.getsize(os.path.join(self.incoming, "big_1.0.orig.tar.gz")),
                         size)
        self.assertLess(peak_kib() - before, 16 << 10)

    def test_bad_names(self):
        """../, absolute, hidden and control-character names get 400 naming the problem;
        other methods 405; nothing is stored."""
        self.assert_problem(self.put("/upload//etc/passwd", b"x"), 400, "/etc/passwd",
                            "directory part")
        self.assert_problem(self.put("/upload/.hidden.dsc", b"x"), 400, "starts with")
        self.assert_problem(self.put("/upload/a%01b.dsc", b"x"), 400, "control character")
        self.assert_problem(self.put("/upload/..%2Fescape.dsc", b"x"), 400)
        self.assert_problem(self.put("/upload/", b"x"), 400, "empty")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("GET", "/upload/foo.dsc")
        response = conn.getresponse()
        response.read()
        self.assertEqual(response.status, 405)
        self.assertEqual(response.headers["Allow"], "PUT")
        self.assertEqual(self.incoming_entries(), [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape.dsc")))
        self.assertFalse(os.path.exists(os.path.join(self.home, "escape.dsc")))

    def test_changes_listing_unsafe_names(self):
        """A .changes that lists ../ or absolute names is refused (400, naming the .changes
        and the name) and removed."""
        changes = self.make_upload()
        with open(changes) as f:
            text = f.read()
        dsc = [n for n in self.listed_files(changes) if n.endswith(".dsc")][0]
        for bad in ("../" + dsc, "/tmp/" + dsc):
            result = self.put("/upload/" + os.path.basename(changes),
                              text.replace(" " + dsc, " " + bad).encode())
            self.assert_problem(result, 400, os.path.basename(changes), bad)
        self.assertEqual(self.incoming_entries(), [])

    def test_garbage_changes(self):
        """Garbage instead of a .changes: 400 naming the file (not the server's path) and the
        line, a REJECTED event with the same reason; nothing left."""
        result = self.put("/upload/junk_1.0_source.changes", b"\x00\x01 this is no .changes\n")
        self.assert_problem(result, 400)
        detail = json.loads(result[2])["detail"]
        self.assertTrue(detail.startswith("junk_1.0_source.changes:1: "), detail)
        self.assertEqual(self.wait_rejected("junk", "")["extra"]["error"]["detail"], detail)
        self.assertEqual(self.incoming_entries(), [])
        self.assertIn("upload refused: ", self.stop_log())


class LimitsTest(UploadTest):
    server_args = ("--max-file-size", "4000", "--max-upload-size", "4500",
                   "--upload-timeout", "2")

    def test_file_over_limit(self):
        """A body over --max-file-size gets 413 naming the file and the limit; dput reports
        the failure; nothing is kept."""
        self.assert_problem(self.put("/upload/big_1.0.orig.tar.gz", b"x" * 4001), 413,
                            "big_1.0.orig.tar.gz", "4000 bytes")
        changes = self.make_upload(orig_extra="incompressible " + os.urandom(8000).hex())
        proc = self.dput(changes)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Upload failed: 413", proc.stdout)
        self.assertEqual(self.wait_incoming_empty(10), [])

    def test_upload_over_limit(self):
        """Files each under the file limit but together over --max-upload-size: the .changes
        gets 413 naming the upload limit and a REJECTED event; the files it lists are removed."""
        changes = self.make_upload(orig_extra="incompressible " + os.urandom(2800).hex())
        sizes = {n: os.path.getsize(os.path.join(os.path.dirname(changes), n))
                 for n in self.listed_files(changes)}
        self.assertTrue(all(size < 4000 for size in sizes.values()), sizes)
        self.assertGreater(sum(sizes.values()), 4500)
        proc = self.dput(changes)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Upload failed: 413", proc.stdout)
        with open(changes, "rb") as f:
            self.assert_problem(self.put("/upload/" + os.path.basename(changes), f.read()),
                                413, "upload size limit of 4500 bytes")
        self.wait_rejected("hello-up", "upload size limit of 4500 bytes")
        self.assertEqual(self.wait_incoming_empty(10), [])

    def test_partial_upload_times_out(self):
        """An upload missing a file is removed after --upload-timeout; the log names what was
        missing."""
        changes = self.make_upload()
        directory = os.path.dirname(changes)
        listed = self.listed_files(changes)
        tarball = [n for n in listed if ".orig." in n][0]
        for name in [n for n in listed if n != tarball] + [os.path.basename(changes)]:
            with open(os.path.join(directory, name), "rb") as f:
                status, _, body = self.put("/upload/" + name, f.read())
            self.assertEqual(status, 201, body)
        self.assertNotEqual(self.incoming_entries(), [])
        self.assertEqual(self.wait_incoming_empty(15), [])
        self.wait_rejected("hello-up", f"{tarball} (missing)")
        log = self.stop_log()
        self.assertIn(f"{os.path.basename(changes)}: upload incomplete after 2 s", log)
        self.assertIn(f"{tarball} (missing)", log)
        self.assertNotIn("upload complete", log)


class StallTest(UploadTest):
    server_args = ("--upload-timeout", "5")

    def test_stalled_put_does_not_block(self):
        """A client that announces a body and stalls does not hold up dput's upload; after
        the upload timeout the server closes its connection and drops its partial file."""
        changes = self.make_upload()
        stalled = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            stalled.sendall(b"PUT /upload/stalled_1.0.tar.gz HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 3000\r\n\r\n" + b"y" * 100)
            deadline = time.monotonic() + 10
            while (not any(e.startswith(".part-") for e in self.incoming_entries())
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            self.assertTrue(any(e.startswith(".part-") for e in self.incoming_entries()))
            proc = self.dput(changes)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            # dput finished while the stalled request was still open
            self.assertTrue(any(e.startswith(".part-") for e in self.incoming_entries()))
            # the server gives up on the stalled body after --upload-timeout (5 s)
            stalled.settimeout(15)
            self.assertIn(stalled.recv(4096), (b"",))
        finally:
            stalled.close()
        self.assertEqual(self.wait_incoming_empty(10), [])
        self.assertIn("upload complete: ", self.stop_log())

    def test_stalled_refused_put_is_closed(self):
        """A refused request (an unsafe name) whose body stalls is closed after the timeout
        too, rather than holding its connection for ever."""
        stalled = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            stalled.sendall(b"PUT /upload/.hidden.dsc HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 3000\r\n\r\n" + b"y" * 100)
            stalled.settimeout(20)
            start = time.monotonic()
            self.assertEqual(stalled.recv(4096), b"")
            self.assertGreater(time.monotonic() - start, 3)
        finally:
            stalled.close()


if __name__ == "__main__":
    unittest.main()
