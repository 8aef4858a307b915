# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server over TLS (--tls-cert/--tls-key): a CA and a server certificate for 127.0.0.1 are
made with openssl at test time. A real apt (Acquire::https::CAInfo the test CA, signed-by the
instance key) updates from and installs out of /repositories/ over https; Debian's dput uploads
over https with the configuration the server hands out (which says https); everything the
server hands out names https URLs; a plain HTTP client on the TLS port neither crashes nor
hangs the server; unreadable, mismatched or half-given certificate options fail at start with a
message naming the file."""

import glob
import json
import os
import socket
import ssl
import subprocess
import time
import unittest

import aptlib
import pkgfixtures
import repotestlib
from mbdtestlib import MBD_SERVER, Server, run_mbd

PACKAGE = "tlshello"
UPLOAD_PACKAGE = "tlsup"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory):
    """A CA (ca.pem) and a certificate for 127.0.0.1 it signed (server.pem, server.key), plus
    a second key (other.key) that belongs to neither. Returns the directory."""
    os.makedirs(directory)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=mbd test CA", cwd=directory)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
            cwd=directory)
    with open(os.path.join(directory, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext",
            cwd=directory)
    openssl("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", "other.key", cwd=directory)
    for name in os.listdir(directory):
        os.chmod(os.path.join(directory, name), 0o644)
    os.chmod(directory, 0o755)
    return directory


class TlsServerTest(repotestlib.RepoTestCase):
    """One instance with a package in repository test, served over https."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = make_certificates(os.path.join(cls.tmp, "certs"))
        cls.ca = os.path.join(cls.certs, "ca.pem")
        cls.version = pkgfixtures.layout_version("1.0-1", repotestlib.REPO_ID)
        dist = f"{cls.codename}-{repotestlib.REPO_ID}-unstable"
        changes, _, _ = cls.factory.package_set(PACKAGE, cls.version, dist, arch_all=False)
        run_mbd("include", dist, changes, home=cls.home)
        cls.server = Server(cls.home, ca_file=cls.ca,
                            extra_args=["--tls-cert", os.path.join(cls.certs, "server.pem"),
                                        "--tls-key", os.path.join(cls.certs, "server.key")])
        cls.https = f"https://127.0.0.1:{cls.server.port}"

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.proc.kill()
            cls.server.proc.communicate()
        super().tearDownClass()

    def assert_alive(self):
        self.assertIsNone(self.server.proc.poll(), "mbd-server exited")
        status, _, data = self.server.get_json("/mini_buildd/api/status/?output=json")
        self.assertEqual(status, 200)
        return data

    def test_hands_out_https(self):
        """status, dput_conf and sources lists name https:// URLs of the TLS port."""
        data = self.assert_alive()
        self.assertEqual(data["url"], self.https)
        self.assertTrue(data["incoming_url"].startswith(self.https + "/"), data)
        status, _, body = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertEqual(status, 200)
        self.assertIn("method   = https\n", body.decode())
        self.assertIn(f"fqdn     = 127.0.0.1:{self.server.port}\n", body.decode())
        status, _, body = self.server.get(
            f"/mini_buildd/api/sources_list/?codenames={self.codename}&output=plain")
        if status != 404:  # the sources_list call may not be there yet
            self.assertEqual(status, 200, body)
            lines = [line for line in body.decode().splitlines() if line.startswith("deb")]
            self.assertTrue(lines, body)
            for line in lines:
                self.assertIn(f" {self.https}/repositories/{repotestlib.REPO_ID} ", line)

    def test_apt_over_https(self):
        """apt-get update and install from https://127.0.0.1:PORT/repositories/test/, checking
        the server's certificate against the test CA and the index against the instance key."""
        root = self.apt_root("https")
        with open(root.config, "a") as f:
            f.write(f'Acquire::https::CAInfo "{self.ca}";\n'
                    'Acquire::https::Verify-Peer "true";\n'
                    'Acquire::https::Verify-Host "true";\n')
        signed = root.add_key(self.key)
        lines = [line.replace(f"signed-by={self.key}", f"signed-by={signed}")
                 for line in self.sources(self.https)]
        self.assertTrue(all(f" {self.https}/repositories/" in line for line in lines), lines)
        root.set_sources(lines)
        out = root.update()
        self.assertIn(f"Get:1 {self.https}/repositories/{repotestlib.REPO_ID}", out)
        root.install(f"{PACKAGE}={self.version}")
        self.assertEqual(root.installed_version(PACKAGE), self.version)

    def test_apt_refuses_unknown_ca(self):
        """The same apt without the test CA refuses the certificate: the test above really
        checked it."""
        root = self.apt_root("noca")
        signed = root.add_key(self.key)
        lines = [line.replace(f"signed-by={self.key}", f"signed-by={signed}")
                 for line in self.sources(self.https)]
        root.set_sources(lines)
        with self.assertRaises(aptlib.AptError) as caught:
            root.update()
        self.assertRegex(str(caught.exception), r"[Cc]ertificate")

    def test_dput_over_https(self):
        """Debian's dput with the server's dput_conf (method https) uploads every file over
        TLS (Python checks the certificate against SSL_CERT_FILE); the upload reaches the
        packager, whose check rejects the unknown repository."""
        status, _, conf = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        self.assertEqual(status, 200)
        cf = os.path.join(self.tmp, "dput.cf")
        with open(cf, "wb") as f:
            f.write(conf)
        version = pkgfixtures.layout_version("1.0-1", "test")
        src = self.factory.source(UPLOAD_PACKAGE, version,
                                  outdir=os.path.join(self.tmp, "up"))
        changes = self.factory.changes(f"{self.codename}-norepo-unstable", source=src)
        env = dict(os.environ, SSL_CERT_FILE=self.ca)
        target = conf.decode().split("]", 1)[0].lstrip("[")
        proc = subprocess.run(["dput", "-c", cf, "-u", target, changes], capture_output=True,
                              text=True, timeout=120, env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"Uploading {os.path.basename(changes)}: done.", proc.stdout)
        deadline = time.monotonic() + 30
        while True:
            events = []
            for path in glob.glob(os.path.join(self.home, "events", "**", "*.json"),
                                  recursive=True):
                with open(path) as f:
                    events.append(json.load(f))
            mine = [e for e in events if e["source"] == UPLOAD_PACKAGE]
            if mine:
                break
            self.assertLess(time.monotonic(), deadline, "the upload never reached the packager")
            time.sleep(0.1)
        self.assertEqual([e["type"] for e in mine], ["REJECTED"])
        self.assertIn("repository 'norepo' does not exist",
                      mine[0]["extra"]["error"]["detail"])

    def test_dput_refuses_unknown_ca(self):
        """Without the test CA, dput's https upload fails on the certificate."""
        _, _, conf = self.server.get("/mini_buildd/api/dput_conf/?output=plain")
        cf = os.path.join(self.tmp, "dput-noca.cf")
        with open(cf, "wb") as f:
            f.write(conf)
        changes = os.path.join(self.tmp, "nothing_1_source.changes")
        src = self.factory.source("tlsnoca", pkgfixtures.layout_version("1.0-1", "test"),
                                  outdir=os.path.join(self.tmp, "noca"))
        changes = self.factory.changes(f"{self.codename}-norepo-unstable", source=src)
        env = dict(os.environ)
        env.pop("SSL_CERT_FILE", None)
        target = conf.decode().split("]", 1)[0].lstrip("[")
        proc = subprocess.run(["dput", "-c", cf, "-u", target, changes], capture_output=True,
                              text=True, timeout=120, env=env)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", proc.stdout + proc.stderr)

    def test_plain_http_on_tls_port(self):
        """A plain HTTP request to the TLS port gets its connection closed at once, and the
        server goes on answering over https; clients that send a broken or unfinished
        handshake do not keep others from being answered while they stay connected."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET /mini_buildd/api/status/ HTTP/1.1\r\nHost: x\r\n\r\n")
            start = time.monotonic()
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            self.assertLess(time.monotonic() - start, 5)
        self.assert_alive()
        stuck = []
        try:
            for payload in (b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x01\x40\x00abc",
                            os.urandom(4096), b""):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
                stuck.append(s)
                s.sendall(payload)
            start = time.monotonic()
            self.assert_alive()
            self.assertLess(time.monotonic() - start, 2)
        finally:
            for s in stuck:
                s.close()
        self.assert_alive()

    def test_https_client_checks_name(self):
        """The certificate is the one given: a TLS client checking against the test CA and the
        name 127.0.0.1 accepts it."""
        context = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                cert = tls.getpeercert()
        self.assertIn(("IP Address", "127.0.0.1"), cert["subjectAltName"])


class TlsOptionsTest(unittest.TestCase):
    """Wrong TLS options end mbd-server at start, before it serves, naming the file."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        cls.certs = make_certificates(os.path.join(cls.tmp, "certs"))
        cls.home = os.path.join(cls.tmp, "home")
        run_mbd("init", "--identity", "tlsopt", "--key-type", "ed25519", home=cls.home)

    @classmethod
    def tearDownClass(cls):
        import shutil
        from mbdtestlib import kill_agent
        kill_agent(cls.home)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, *args):
        port_file = os.path.join(self.tmp, "port")
        proc = subprocess.run([MBD_SERVER, "--home", self.home, "--port", "0",
                               "--port-file", port_file, *args],
                              capture_output=True, text=True, timeout=60)
        self.assertFalse(os.path.exists(port_file), "the server served")
        return proc

    def cert(self, name):
        return os.path.join(self.certs, name)

    def test_missing_certificate(self):
        missing = self.cert("missing.pem")
        proc = self.start("--tls-cert", missing, "--tls-key", self.cert("server.key"))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"'{missing}'", proc.stderr)
        self.assertIn("No such file", proc.stderr)

    def test_unreadable_key(self):
        proc = self.start("--tls-cert", self.cert("server.pem"), "--tls-key", self.cert("ext"))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"'{self.cert('ext')}'", proc.stderr)
        self.assertIn("private key", proc.stderr)

    def test_key_of_another_certificate(self):
        for key in ("other.key", "ca.key"):
            with self.subTest(key=key):
                proc = self.start("--tls-cert", self.cert("server.pem"), "--tls-key",
                                  self.cert(key))
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(f"the key in '{self.cert(key)}' does not belong to the "
                              f"certificate in '{self.cert('server.pem')}'", proc.stderr)

    def test_half_given(self):
        for args in (("--tls-cert", self.cert("server.pem")),
                     ("--tls-key", self.cert("server.key"))):
            with self.subTest(args=args):
                proc = self.start(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("--tls-cert and --tls-key must be given together", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
